/* Development phone simulator: the server signs the SMS, the browser posts it to the
   simulator webhook exactly as a provider would. */
(function () {
  "use strict";
  var form = document.getElementById("phone-form");
  if (!form) { return; }
  var result = document.getElementById("phone-result");
  var params = new URLSearchParams(window.location.search);
  if (params.get("text")) { document.getElementById("text").value = params.get("text"); }
  if (params.get("to")) { document.getElementById("to").value = params.get("to"); }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var sms = {
      from: document.getElementById("from").value,
      to: document.getElementById("to").value,
      text: document.getElementById("text").value
    };
    fetch(form.getAttribute("data-sign-url"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(sms)
    })
      .then(function (r) { return r.json(); })
      .then(function (signed) {
        if (!signed.url) { throw new Error(signed.error ? signed.error.message : "not signed"); }
        var headers = { "Content-Type": "application/json" };
        headers[signed.header] = signed.signature;
        return fetch(signed.url, { method: "POST", headers: headers, body: signed.body });
      })
      .then(function (r) { return r.text().then(function (t) { return r.status + " " + t; }); })
      .then(function (text) { result.textContent = result.getAttribute("data-label") + ": " + text; })
      .catch(function (e) { result.textContent = String(e); });
  });
})();
