// The WhatsApp way to send the code (templates/channels/whatsapp.html): follow a renewed code.
(function () {
  "use strict";
  var root = document.getElementById("verify");
  if (!root) { return; }
  root.addEventListener("reverse-otp:message", function (event) {
    var link = event.detail.whatsapp;
    if (!link) { return; }
    var send = document.getElementById("send-whatsapp");
    if (send) { send.setAttribute("href", link.uri); }
    var qr = document.getElementById("qr-whatsapp");
    if (qr) { qr.setAttribute("src", qr.getAttribute("src").split("?")[0] + "?channel=whatsapp&r=" + event.detail.renewals); }
  });
})();
