"""Outbound senders of one-time codes: one module per provider, one contract (base.py),
and a plain registry dict from `kind` to class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.providers.base import SettingsError
from app.senders.android_sms_gateway import AndroidSmsGatewaySender
from app.senders.base import Sender
from app.senders.email import EmailSender
from app.senders.labsmobile import LabsMobileSender
from app.senders.smsgateway24 import SmsGateway24Sender
from app.senders.twilio import TwilioSender
from app.senders.vonage import VonageSender

__all__ = ["REGISTRY", "Sender", "SettingsError", "build"]

REGISTRY: dict[str, Any] = {
    "twilio": TwilioSender,
    "vonage": VonageSender,
    "labsmobile": LabsMobileSender,
    "android-sms-gateway": AndroidSmsGatewaySender,
    "smsgateway24": SmsGateway24Sender,
    "email": EmailSender,
}


def build(sections: Sequence[Mapping[str, Any]]) -> list[Sender]:
    """Return the configured senders in order; raise SettingsError naming a bad entry."""
    senders: list[Sender] = []
    for section in sections:
        kind = section.get("kind")
        if kind not in REGISTRY:
            raise SettingsError(f"senders: kind must be one of {sorted(REGISTRY)}, not {kind!r}")
        sender = REGISTRY[kind](section)
        if any(s.name == sender.name for s in senders):
            raise SettingsError(f"senders: two entries are named {sender.name!r}; name them")
        senders.append(sender)
    return senders
