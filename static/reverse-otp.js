/* reverse-otp embeddable widget (no dependencies).

   Renders, for a status token, the QR code (desktop) or the "Send the SMS" button (phone),
   the text and number to send, and the live status, into a container on your own page.

   Declarative:  <div data-reverse-otp-token="TOKEN" data-reverse-otp-server="https://verify.example.com"></div>
                 <script src="https://verify.example.com/static/reverse-otp.js" defer></script>
   Programmatic: ReverseOTP.mount(element, { token: "TOKEN", server: "https://verify.example.com" })

   The container receives a "reverse-otp:status" event (detail: the status answer) on every
   change; mount() returns { close() }. Creates elements with classes only (no inline style),
   so it runs under a strict Content-Security-Policy; style it with reverse-otp.css or your own. */
(function (global) {
  "use strict";
  var FINAL = { verified: true, failed: true, expired: true, cancelled: true };
  var WORDS = {
    en: {
      send: "Send the SMS", scan: "Scan with your phone camera, then press Send.",
      tap: "Tap the button, then press Send in your messaging app.",
      or: "Or text", to: "to", plain: "Send it as a plain SMS, not iMessage or RCS chat.",
      pending: "Waiting for your SMS…", verified: "Your phone number is verified.",
      failed: "Verification failed.", expired: "This code has expired.",
      cancelled: "This verification was cancelled.", qr: "QR code: text {body} to {to}"
    },
    fr: {
      send: "Envoyer le SMS", scan: "Scannez avec l'appareil photo de votre téléphone, puis appuyez sur Envoyer.",
      tap: "Touchez le bouton, puis appuyez sur Envoyer dans votre application de messages.",
      or: "Ou envoyez", to: "au", plain: "Envoyez-le comme un simple SMS, pas comme iMessage ni message RCS.",
      pending: "En attente de votre SMS…", verified: "Votre numéro de téléphone est vérifié.",
      failed: "Échec de la vérification.", expired: "Ce code a expiré.",
      cancelled: "Cette vérification a été annulée.", qr: "Code QR : envoyez {body} au {to}"
    }
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function isPhone() {
    return /Mobi|Android|iPhone|iPad|iPod/i.test(navigator.userAgent);
  }

  function mount(container, options) {
    var server = String(options.server || "").replace(/\/+$/, "");
    var base = server + "/api/v1/status/" + encodeURIComponent(options.token);
    var lang = (options.lang || navigator.language || "en").slice(0, 2).toLowerCase();
    var t = WORDS[lang] || WORDS.en;
    var closed = false;
    var source = null;
    var last = null;

    container.classList.add("rotp");
    container.textContent = "";
    var body = el("div", "rotp-body");
    var status = el("p", "rotp-status", t.pending);
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    container.appendChild(body);
    container.appendChild(status);

    function render(message) {
      body.textContent = "";
      if (options.mode === "button" || (options.mode !== "qr" && isPhone())) {
        body.appendChild(el("p", "rotp-lead", t.tap));
        var link = el("a", "rotp-button", t.send);
        link.href = message.sms_uri;
        body.appendChild(link);
      } else {
        body.appendChild(el("p", "rotp-lead", t.scan));
        var img = el("img", "rotp-qr");
        img.src = message.qr_svg_url;
        img.width = 220;
        img.height = 220;
        img.alt = t.qr.replace("{body}", message.body).replace("{to}", message.to);
        body.appendChild(img);
      }
      var fallback = el("p", "rotp-fallback", t.or + " ");
      fallback.appendChild(el("code", "rotp-text", message.body));
      fallback.appendChild(document.createTextNode(" " + t.to + " "));
      fallback.appendChild(el("code", "rotp-number", message.to));
      body.appendChild(fallback);
      body.appendChild(el("p", "rotp-note", t.plain));
    }

    function update(view) {
      if (closed || !view || !view.status || view.status === last) { return; }
      last = view.status;
      container.setAttribute("data-status", view.status);
      status.textContent = t[view.status] || view.status;
      if (FINAL[view.status]) { body.textContent = ""; stop(); }
      container.dispatchEvent(new CustomEvent("reverse-otp:status", { detail: view }));
    }

    function poll() {
      if (closed) { return; }
      fetch(base + "?wait=25", { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (view) { update(view); setTimeout(poll, 100); })
        .catch(function () { setTimeout(poll, 3000); });
    }

    function listen() {
      if (!global.EventSource) { poll(); return; }
      var failures = 0;
      source = new EventSource(base + "/events");
      ["pending", "verified", "failed", "expired", "cancelled"].forEach(function (name) {
        source.addEventListener(name, function (event) {
          failures = 0;
          try { update(JSON.parse(event.data)); } catch (e) { /* ignore a bad frame */ }
        });
      });
      source.onerror = function () {
        failures += 1;
        if (!closed && (failures >= 3 || source.readyState === 2)) { source.close(); source = null; poll(); }
      };
    }

    function stop() {
      closed = true;
      if (source) { source.close(); source = null; }
    }

    fetch(base + "/message", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (message) { if (message) { render(message); } listen(); })
      .catch(listen);
    return { close: stop };
  }

  function auto() {
    var nodes = document.querySelectorAll("[data-reverse-otp-token]");
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].getAttribute("data-reverse-otp-mounted")) { continue; }
      nodes[i].setAttribute("data-reverse-otp-mounted", "1");
      mount(nodes[i], {
        token: nodes[i].getAttribute("data-reverse-otp-token"),
        server: nodes[i].getAttribute("data-reverse-otp-server") || "",
        lang: nodes[i].getAttribute("data-reverse-otp-lang") || undefined,
        mode: nodes[i].getAttribute("data-reverse-otp-mode") || undefined
      });
    }
  }

  global.ReverseOTP = { mount: mount };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", auto);
  } else {
    auto();
  }
})(window);
