/* reverse-otp hosted page: live status (EventSource, falling back to long polling),
   countdown, copy buttons and code renewal. No dependencies; loaded with defer. */
(function () {
  "use strict";
  var root = document.getElementById("verify");
  if (!root) { return; }
  var data = root.dataset;
  var FINAL = { verified: true, failed: true, expired: true, cancelled: true };
  var statusEl = document.getElementById("status");
  var countdownEl = document.getElementById("countdown");
  var renewButton = document.getElementById("renew");
  var renewWait = document.getElementById("renew-wait");
  var skew = Date.parse(data.now) - Date.now(); /* server clock minus ours */
  var expiresAt = Date.parse(data.expiresAt);
  var renewAt = Date.now() + Number(data.renewIn || 0) * 1000;
  var done = false;
  var source = null;
  var ticker = null;

  function show(status) {
    if (done || !status) { return; }
    root.dataset.status = status;
    var blocks = root.querySelectorAll("[data-when]");
    for (var i = 0; i < blocks.length; i++) {
      blocks[i].hidden = blocks[i].getAttribute("data-when") !== status;
    }
    var text = statusEl.getAttribute("data-text-" + status);
    if (text && statusEl.textContent !== text) { statusEl.textContent = text; }
    if (FINAL[status]) {
      done = true;
      if (source) { source.close(); }
      if (ticker) { clearInterval(ticker); }
      if (status === "verified") { leave(true); }
    }
  }

  /* After verification, show the success for a moment, then go back to the app's
     return_url (the "Continue" link, present only when the app gave one). A page that saw
     the verification live asks itself again for that link: only a verified page carries the
     proof in its fragment (docs/proofs.md). */
  function leave(live) {
    var link = document.getElementById("continue-verified");
    if (!link) { return; }
    document.getElementById("redirecting").hidden = false;
    var started = Date.now();
    var delay = Number(data.redirectDelay || 3) * 1000;
    var go = function () {
      setTimeout(function () { window.location.assign(link.href); }, Math.max(0, delay - (Date.now() - started)));
    };
    if (!live || !window.DOMParser) { go(); return; }
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("continue-verified");
        if (fresh) { link.setAttribute("href", fresh.getAttribute("href")); }
      })
      .catch(function () { /* the link without the proof still leads back */ })
      .then(go);
  }

  function warnSender(attempts) {
    var warning = document.getElementById("wrong-sender");
    if (warning && attempts > 0) { warning.hidden = false; }
  }

  function update(view) {
    if (!view || !view.status) { return; }
    var shown = document.getElementById("verified-phone");
    if (view.status === "verified" && view.phone && shown) { shown.textContent = view.phone; }
    warnSender(view.attempts);
    show(view.status);
  }

  function listen() {
    if (!window.EventSource) { poll(); return; }
    var failures = 0;
    source = new EventSource(data.eventsUrl);
    ["pending", "verified", "failed", "expired", "cancelled"].forEach(function (name) {
      source.addEventListener(name, function (event) {
        failures = 0;
        try { update(JSON.parse(event.data)); } catch (e) { /* ignore a bad frame */ }
      });
    });
    source.onerror = function () {
      if (done) { return; }
      failures += 1;
      if (failures >= 3 || source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        poll();
      }
    };
  }

  function poll() {
    if (done) { return; }
    fetch(data.statusUrl + "?wait=25", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (view) { update(view); setTimeout(poll, 100); })
      .catch(function () { setTimeout(poll, 3000); });
  }

  function tick() {
    var left = Math.max(0, Math.round((expiresAt - (Date.now() + skew)) / 1000));
    if (countdownEl) {
      countdownEl.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    }
    var wait = Math.max(0, Math.ceil((renewAt - Date.now()) / 1000));
    if (renewButton) {
      renewButton.disabled = wait > 0;
      renewWait.textContent = wait > 0 ? renewWait.getAttribute("data-template").replace("{seconds}", wait) : "";
    }
    if (left === 0 && !done && !source) { poll(); }
  }

  function setMessage(message) {
    document.getElementById("sms-body").textContent = message.body;
    document.getElementById("sms-to").textContent = message.to;
    var send = document.getElementById("send");
    if (send) { send.setAttribute("href", message.sms_uri); }
    var qr = document.getElementById("qr");
    if (qr) { qr.setAttribute("src", qr.getAttribute("src").split("?")[0] + "?r=" + message.renewals); }
    root.dispatchEvent(new CustomEvent("reverse-otp:message", { detail: message }));
    renewAt = Date.now() + Number(message.renew_in || 0) * 1000;
  }

  function announce(text) {
    var notice = document.getElementById("notice");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "notice";
      notice.className = "notice";
      notice.setAttribute("role", "status");
      var form = document.getElementById("renew-form");
      form.parentNode.insertBefore(notice, form.parentNode.firstChild);
    }
    notice.textContent = text;
  }

  if (renewButton) {
    document.getElementById("renew-form").addEventListener("submit", function (event) {
      event.preventDefault();
      renewButton.disabled = true;
      fetch(data.renewUrl, { method: "POST", cache: "no-store" })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body, retry: r.headers.get("Retry-After") }; }); })
        .then(function (answer) {
          if (answer.ok) { setMessage(answer.body); announce(data.renewed); return; }
          if (answer.retry) { renewAt = Date.now() + Number(answer.retry) * 1000; }
          if (answer.body && answer.body.error) { announce(answer.body.error.message); }
        })
        .catch(function () { /* the status stream tells what happened */ })
        .then(tick);
    });
  }

  var copies = root.querySelectorAll("button[data-copy]");
  for (var i = 0; i < copies.length; i++) {
    if (!navigator.clipboard) { break; }
    copies[i].hidden = false;
    copies[i].addEventListener("click", function (event) {
      var button = event.currentTarget;
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      navigator.clipboard.writeText(text).then(function () {
        var label = button.textContent;
        button.textContent = data.copied;
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  }

  if (FINAL[data.status]) {
    done = true;
    if (data.status === "verified") { leave(false); }
    return;
  }
  ticker = setInterval(tick, 1000);
  tick();
  listen();
})();
