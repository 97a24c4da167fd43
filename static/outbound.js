// The fallback on the hosted page: ask for a code by SMS, then check what the user types
// (or what WebOTP reads from the SMS). The page's own status stream shows the result.
// Every word shown comes from the page's language, in the section's data-text-* attributes
// (templates/outbound_code.html); the server's English error messages are never shown.
(function () {
  "use strict";
  const box = document.getElementById("outbound");
  if (!box) return;
  const form = document.getElementById("outbound-form");
  const input = document.getElementById("outbound-code");
  const note = document.getElementById("outbound-note");
  const sendButton = document.getElementById("outbound-send");
  const token = box.dataset.token;

  function text(name) { return box.getAttribute("data-text-" + name) || ""; }

  function answerOf(r) {
    return r.json().catch(function () { return {}; }).then(function (j) {
      return { status: r.status, body: j || {}, retryAfter: parseInt(r.headers.get("Retry-After"), 10) };
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(answerOf);
  }

  function say(message) { note.textContent = message; }

  // The cooldown message, its number kept left to right inside a right-to-left sentence.
  function sayWait(seconds) {
    const parts = text("wait").split("{seconds}");
    const number = document.createElement("bdi");
    number.setAttribute("dir", "ltr");
    number.textContent = String(seconds);
    note.replaceChildren(document.createTextNode(parts[0]), number,
                         document.createTextNode(parts.slice(1).join("")));
  }

  function errorCode(answer) { return answer.body.error ? answer.body.error.code : ""; }

  function listenForOtp() {
    if (!("OTPCredential" in window)) return;
    navigator.credentials.get({ otp: { transport: ["sms"] } }).then(function (otp) {
      if (otp && otp.code) { input.value = otp.code; form.requestSubmit(); }
    }).catch(function () {});
  }

  function enableAfter(seconds) {
    setTimeout(function () { sendButton.disabled = false; }, seconds * 1000);
  }

  sendButton.addEventListener("click", function () {
    sendButton.disabled = true;
    say(text("sending"));
    post(box.dataset.sendUrl, { token: token }).then(function (answer) {
      if (answer.status === 202) {
        form.hidden = false;
        input.focus();
        say(text("sent"));
        listenForOtp();
        sendButton.textContent = text("send-again");
        const wait = answer.body.sends_left > 0 ? answer.body.resend_after : 0;
        if (answer.body.sends_left > 0) enableAfter(wait > 0 ? wait : 0);
      } else if (errorCode(answer) === "send_too_soon" && answer.retryAfter > 0) {
        sayWait(answer.retryAfter);
        enableAfter(answer.retryAfter);
      } else if (answer.status === 429) {
        say(text("no-more"));
      } else if (errorCode(answer) === "already_settled") {
        window.location.reload();
      } else {
        say(text("send-failed"));
        sendButton.disabled = false;
      }
    }).catch(function () { say(text("send-failed")); sendButton.disabled = false; });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    say(text("checking"));
    post(box.dataset.checkUrl, { code: input.value.trim() }).then(function (answer) {
      const status = answer.body.status;
      if (answer.status === 200 && status === "verified") {
        say(text("verified"));
        window.location.reload();
      } else if (answer.status === 200 && status === "pending") {
        say(text("wrong"));
        input.select();
      } else if (answer.status === 200 || errorCode(answer) === "already_settled") {
        window.location.reload();  // failed (too many wrong codes), expired or cancelled
      } else {
        say(text("check-failed"));
      }
    }).catch(function () { say(text("check-failed")); });
  });
})();
