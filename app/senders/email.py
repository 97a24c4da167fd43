"""Email over SMTP (smtplib): a code to an address instead of a phone.

SMTP answers while the message is handed over: a 2xx to every command means the server
took it. Per RFC 5321 (§4.2.1) a 4xx reply is a transient failure (try again later) and a
5xx a permanent one; a connection that fails or times out is transient too. SMTP has no
delivery receipts that reach us (bounces go to the envelope sender), so none are read.
STARTTLS is required unless `starttls = false` (a local relay).
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from app.providers.base import Rejected, SettingsError, WebhookRequest
from app.senders.base import Accepted, Outgoing, Receipt, SendFailed, common, setting


class EmailSender:
    kind = "email"
    channel = "email"

    def __init__(self, section: Mapping[str, Any]) -> None:
        c = common(section)
        self.name, self.countries = c.name, c.countries
        self.host = setting(section, c.name, "host")
        port = section.get("port", 587)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise SettingsError(f"senders.{c.name}.port: a TCP port number")
        self.port = port
        self.sender = setting(section, c.name, "from")
        self.username = setting(section, c.name, "username", "")
        self.password = setting(section, c.name, "password", "")
        self.starttls = bool(section.get("starttls", True))
        self.timeout = float(section.get("timeout", 10))

    def serves(self, country: str) -> bool:
        return country == ""

    def message(self, outgoing: Outgoing) -> EmailMessage:
        """Build the email (no I/O)."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = outgoing.to
        mail["Subject"] = outgoing.subject or "Your verification code"
        mail["Message-ID"] = make_msgid(idstring=outgoing.reference)
        mail.set_content(outgoing.text)
        return mail

    def send(self, outgoing: Outgoing) -> Accepted:
        """Hand the message to the SMTP server; raise SendFailed (4xx, network: retryable)."""
        mail = self.message(outgoing)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise SendFailed(f"smtp_{exc.smtp_code}", 400 <= exc.smtp_code < 500) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendFailed("smtp_recipient_refused", all(400 <= c < 500 for c in codes)) from None
        except (smtplib.SMTPException, OSError):
            raise SendFailed("smtp_unreachable", True) from None
        return Accepted(str(mail["Message-ID"]))

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        raise Rejected("no_receipts")

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        return []
