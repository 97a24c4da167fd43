/* reverse-otp embeddable widget (no dependencies).

   Renders, for a status token, the QR code (desktop) or the "Send the SMS" button (phone),
   the same for WhatsApp when the challenge is offered there (alone when it is the only
   channel), the text and number to send, and the live status, into a container on your own page.

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
      cancelled: "This verification was cancelled.", qr: "QR code: text {body} to {to}",
      wa_or: "Or send it on WhatsApp", wa_send: "Send it on WhatsApp",
      wa_tap: "Tap the button: WhatsApp opens with the message ready. Then press Send.",
      wa_scan: "Scan this code to open WhatsApp with the message ready, then press Send.",
      wa_pending: "Waiting for your WhatsApp message…",
      wa_qr: "QR code: a WhatsApp message to {to} saying {body}"
    },
    fr: {
      send: "Envoyer le SMS", scan: "Scannez avec l'appareil photo de votre téléphone, puis appuyez sur Envoyer.",
      tap: "Touchez le bouton, puis appuyez sur Envoyer dans votre application de messages.",
      or: "Ou envoyez", to: "au", plain: "Envoyez-le comme un simple SMS, pas comme iMessage ni message RCS.",
      pending: "En attente de votre SMS…", verified: "Votre numéro de téléphone est vérifié.",
      failed: "Échec de la vérification.", expired: "Ce code a expiré.",
      cancelled: "Cette vérification a été annulée.", qr: "Code QR : envoyez {body} au {to}",
      wa_or: "Ou envoyez-le sur WhatsApp", wa_send: "Envoyer sur WhatsApp",
      wa_tap: "Touchez le bouton : WhatsApp s'ouvre avec le message prêt. Appuyez ensuite sur Envoyer.",
      wa_scan: "Scannez ce code pour ouvrir WhatsApp avec le message prêt, puis appuyez sur Envoyer.",
      wa_pending: "En attente de votre message WhatsApp…",
      wa_qr: "Code QR : un message WhatsApp au {to} disant {body}"
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
    var smsWay = true;

    container.classList.add("rotp");
    container.textContent = "";
    var body = el("div", "rotp-body");
    var status = el("p", "rotp-status", t.pending);
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    container.appendChild(body);
    container.appendChild(status);

    // One way to send the code: the button (phone) or the QR code (desktop) of that channel.
    function way(message, button, lead, label, href, qrLead, qrUrl, qrAlt, extra) {
      var box = el("div", "rotp-way");
      if (button) {
        if (lead) { box.appendChild(el("p", "rotp-lead", lead)); }
        var link = el("a", "rotp-button" + extra, label);
        link.href = href;
        link.rel = "noopener";
        box.appendChild(link);
      } else {
        box.appendChild(el("p", "rotp-lead", qrLead));
        var img = el("img", "rotp-qr" + extra);
        img.src = qrUrl;
        img.width = 220;
        img.height = 220;
        img.alt = qrAlt.replace("{body}", message.body).replace("{to}", message.to);
        box.appendChild(img);
      }
      return box;
    }

    function render(message) {
      body.textContent = "";
      var button = options.mode === "button" || (options.mode !== "qr" && isPhone());
      var channels = message.channels || ["sms"];
      var sms = channels.indexOf("sms") !== -1;
      smsWay = sms;
      var wa = message.whatsapp || null;
      if (sms) {
        body.appendChild(way(message, button, t.tap, t.send, message.sms_uri, t.scan, message.qr_svg_url, t.qr, ""));
      }
      if (wa) {
        if (sms) { body.appendChild(el("p", "rotp-or", t.wa_or)); }
        body.appendChild(way(message, button, sms ? "" : t.wa_tap, t.wa_send, wa.uri, t.wa_scan, wa.qr_svg_url, t.wa_qr, " rotp-whatsapp"));
      }
      if (!sms && (last === null || last === "pending")) { status.textContent = t.wa_pending; }
      var fallback = el("p", "rotp-fallback", t.or + " ");
      fallback.appendChild(el("code", "rotp-text", message.body));
      fallback.appendChild(document.createTextNode(" " + t.to + " "));
      fallback.appendChild(el("code", "rotp-number", message.to));
      body.appendChild(fallback);
      if (sms) { body.appendChild(el("p", "rotp-note", t.plain)); }
    }

    function update(view) {
      if (closed || !view || !view.status || view.status === last) { return; }
      last = view.status;
      container.setAttribute("data-status", view.status);
      status.textContent = (view.status === "pending" && !smsWay ? t.wa_pending : t[view.status]) || view.status;
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
