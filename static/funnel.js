/* reverse-otp hosted page: report the funnel's steps to this server (no third party).
   page_opened when the page shows a pending challenge; qr_shown once the QR code is
   displayed (desktop); send_tapped when "Send the SMS" is tapped (phone). Each is sent
   once, with navigator.sendBeacon, to /v/<token>/beacon: the token in the page's own URL
   is the credential. Loaded with defer; does nothing without sendBeacon. */
(function () {
  "use strict";
  var root = document.getElementById("verify");
  if (!root || root.dataset.status !== "pending" || !navigator.sendBeacon) { return; }
  var url = window.location.pathname.replace(/\/+$/, "") + "/beacon";
  var sent = {};

  function report(name) {
    if (sent[name]) { return; }
    sent[name] = true;
    var body = new Blob([JSON.stringify({ event: name })], { type: "application/json" });
    navigator.sendBeacon(url, body);
  }

  report("page_opened");
  var qr = document.getElementById("qr");
  if (qr && !qr.closest("[hidden]")) {
    if (qr.complete && qr.naturalWidth > 0) { report("qr_shown"); }
    else { qr.addEventListener("load", function () { report("qr_shown"); }); }
  }
  var send = document.getElementById("send");
  if (send) {
    send.addEventListener("click", function () { report("send_tapped"); });
  }
})();
