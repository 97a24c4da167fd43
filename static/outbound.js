// The fallback on the hosted page: ask for a code by SMS, then check what the user types
// (or what WebOTP reads from the SMS). The page's own status stream shows the result.
(function () {
  "use strict";
  const box = document.getElementById("outbound");
  if (!box) return;
  const form = document.getElementById("outbound-form");
  const input = document.getElementById("outbound-code");
  const note = document.getElementById("outbound-note");
  const sendButton = document.getElementById("outbound-send");
  const token = box.dataset.token;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ token: token }, body)),
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }

  function say(text) { note.textContent = text; }

  function listenForOtp() {
    if (!("OTPCredential" in window)) return;
    navigator.credentials.get({ otp: { transport: ["sms"] } }).then(function (otp) {
      if (otp && otp.code) { input.value = otp.code; form.requestSubmit(); }
    }).catch(function () {});
  }

  sendButton.addEventListener("click", function () {
    sendButton.disabled = true;
    post(box.dataset.sendUrl, {}).then(function (answer) {
      if (answer.status === 202) {
        form.hidden = false;
        input.focus();
        say("We sent a code to your phone.");
        listenForOtp();
        const wait = answer.body.sends_left > 0 ? answer.body.resend_after : 0;
        if (wait > 0) setTimeout(function () { sendButton.disabled = false; }, wait * 1000);
        sendButton.textContent = "Send another code";
      } else {
        say(answer.body.error ? answer.body.error.message : "The code could not be sent.");
        sendButton.disabled = answer.status !== 429;
      }
    }).catch(function () { say("The code could not be sent."); sendButton.disabled = false; });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(box.dataset.checkUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: input.value.trim() }),
    }).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, body: j }; });
    }).then(function (answer) {
      if (answer.status === 200 && answer.body.status === "verified") {
        say("Verified.");
        window.location.reload();
      } else {
        say(answer.body.error ? answer.body.error.message : "That code did not work.");
        if (answer.body.error && answer.body.error.code === "too_many_attempts") window.location.reload();
      }
    });
  });
})();
