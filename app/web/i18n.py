"""The words of the hosted pages, in English and French, chosen by Accept-Language."""

from __future__ import annotations

from werkzeug.datastructures import LanguageAccept

LANGUAGES = ("en", "fr")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Verify your phone number",
        "lead_phone": "Tap the button: your messaging app opens with the text ready. "
        "Then press Send.",
        "lead_desktop": "Scan this code with your phone camera, then press Send in your "
        "messaging app.",
        "send": "Send the SMS",
        "qr_alt": "QR code: a text message to {to} saying {body}",
        "from_phone": "Send it from the phone ending in {phone}.",
        "fallback": "Or type this text yourself:",
        "text": "Text",
        "number": "To",
        "copy": "Copy",
        "copied": "Copied",
        "plain_sms": "Send it as a plain text message (SMS), not as iMessage or an RCS chat "
        "message: the SMS is what we receive.",
        "expires_in": "This code expires in",
        "expires_at": "This code expires at {time} UTC.",
        "renew": "Get a new code",
        "renew_wait": "You can ask for a new code in {seconds} s.",
        "renewed": "Here is a new code. The previous one no longer works.",
        "waiting": "Waiting for your SMS…",
        "status_pending": "Waiting for your SMS…",
        "status_verified": "Your phone number is verified.",
        "status_failed": "Verification failed: too many messages came from another number.",
        "status_expired": "This code has expired.",
        "status_cancelled": "This verification was cancelled.",
        "done_verified": "Verified",
        "done_verified_detail": "Thank you. You can close this page and return to {name}.",
        "done_failed": "Verification failed",
        "done_failed_detail": "Return to {name} to start again.",
        "done_expired": "Code expired",
        "done_expired_detail": "Return to {name} to get a new verification.",
        "done_cancelled": "Verification cancelled",
        "done_cancelled_detail": "Return to {name} if you still need to verify.",
        "refresh": "Refresh the status",
        "nojs": "This page refreshes itself every 15 seconds.",
        "language": "Language",
        "demo_title": "Try reverse OTP",
        "demo_lead": "Create a test verification, then send its SMS from the phone simulator.",
        "demo_try": "Try it",
        "demo_phone": "Open the phone simulator",
        "demo_limited": "Too many tries from your address; wait a minute.",
        "phone_title": "Phone simulator",
        "phone_from": "From (your phone number)",
        "phone_to": "To (virtual number)",
        "phone_text": "Message",
        "phone_send": "Send",
        "phone_sent": "Webhook answered",
    },
    "fr": {
        "title": "Vérifiez votre numéro de téléphone",
        "lead_phone": "Touchez le bouton : votre application de messages s'ouvre avec le texte "
        "prêt. Appuyez ensuite sur Envoyer.",
        "lead_desktop": "Scannez ce code avec l'appareil photo de votre téléphone, puis appuyez "
        "sur Envoyer dans votre application de messages.",
        "send": "Envoyer le SMS",
        "qr_alt": "Code QR : un SMS au {to} disant {body}",
        "from_phone": "Envoyez-le depuis le téléphone se terminant par {phone}.",
        "fallback": "Ou tapez ce texte vous-même :",
        "text": "Texte",
        "number": "Au",
        "copy": "Copier",
        "copied": "Copié",
        "plain_sms": "Envoyez-le comme un simple SMS, pas comme iMessage ni comme message "
        "de discussion RCS : c'est le SMS que nous recevons.",
        "expires_in": "Ce code expire dans",
        "expires_at": "Ce code expire à {time} UTC.",
        "renew": "Obtenir un nouveau code",
        "renew_wait": "Vous pourrez demander un nouveau code dans {seconds} s.",
        "renewed": "Voici un nouveau code. L'ancien ne fonctionne plus.",
        "waiting": "En attente de votre SMS…",
        "status_pending": "En attente de votre SMS…",
        "status_verified": "Votre numéro de téléphone est vérifié.",
        "status_failed": "Échec de la vérification : trop de messages venaient d'un autre numéro.",
        "status_expired": "Ce code a expiré.",
        "status_cancelled": "Cette vérification a été annulée.",
        "done_verified": "Vérifié",
        "done_verified_detail": "Merci. Vous pouvez fermer cette page et revenir sur {name}.",
        "done_failed": "Échec de la vérification",
        "done_failed_detail": "Revenez sur {name} pour recommencer.",
        "done_expired": "Code expiré",
        "done_expired_detail": "Revenez sur {name} pour obtenir une nouvelle vérification.",
        "done_cancelled": "Vérification annulée",
        "done_cancelled_detail": "Revenez sur {name} si vous devez encore vous vérifier.",
        "refresh": "Actualiser l'état",
        "nojs": "Cette page s'actualise toute seule toutes les 15 secondes.",
        "language": "Langue",
        "demo_title": "Essayez l'OTP inversé",
        "demo_lead": "Créez une vérification de test, puis envoyez son SMS depuis le "
        "simulateur de téléphone.",
        "demo_try": "Essayer",
        "demo_phone": "Ouvrir le simulateur de téléphone",
        "demo_limited": "Trop d'essais depuis votre adresse ; attendez une minute.",
        "phone_title": "Simulateur de téléphone",
        "phone_from": "De (votre numéro)",
        "phone_to": "À (numéro virtuel)",
        "phone_text": "Message",
        "phone_send": "Envoyer",
        "phone_sent": "Réponse du webhook",
    },
}


# The WhatsApp way to send the code (templates/channels/whatsapp.html), merged into MESSAGES.
WHATSAPP: dict[str, dict[str, str]] = {
    "en": {
        "wa_or": "Or send it on WhatsApp",
        "wa_send": "Send it on WhatsApp",
        "wa_lead_desktop": "Scan this code to open WhatsApp with the message ready, then press "
        "Send. It is free over Wi-Fi.",
        "wa_qr_alt": "QR code: a WhatsApp message to {to} saying {body}",
    },
    "fr": {
        "wa_or": "Ou envoyez-le sur WhatsApp",
        "wa_send": "Envoyer sur WhatsApp",
        "wa_lead_desktop": "Scannez ce code pour ouvrir WhatsApp avec le message prêt, puis "
        "appuyez sur Envoyer. C'est gratuit en Wi-Fi.",
        "wa_qr_alt": "Code QR : un message WhatsApp au {to} disant {body}",
    },
}
for _language, _words in WHATSAPP.items():
    MESSAGES[_language] |= _words


def choose(accept: LanguageAccept) -> str:
    """Return the best language for an Accept-Language header (English by default)."""
    return accept.best_match(LANGUAGES, default="en") or "en"


def messages(language: str) -> dict[str, str]:
    return MESSAGES.get(language, MESSAGES["en"])
