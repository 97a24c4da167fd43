"""SMS provider adapters and the registry that names them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from app.config import checks, schema
from app.providers.africastalking import AfricasTalking
from app.providers.android_sms_gateway import AndroidSmsGateway
from app.providers.aws_sns import AwsSns
from app.providers.bandwidth import Bandwidth
from app.providers.base import Defaults, Nonces, NoNonces, Provider, SettingsError
from app.providers.bird import Bird
from app.providers.generic import Generic
from app.providers.guards import Guarded
from app.providers.infobip import Infobip
from app.providers.messagebird import MessageBird
from app.providers.plivo import Plivo
from app.providers.simulator import Simulator
from app.providers.sinch import Sinch
from app.providers.smsgateway24 import SmsGateway24
from app.providers.smsmode import Smsmode
from app.providers.telnyx import Telnyx
from app.providers.textmagic import Textmagic
from app.providers.twilio import Twilio
from app.providers.vonage import Vonage
from app.providers.vonage_messages import VonageMessages
from app.providers.whatsapp import WhatsApp


class Factory(Protocol):
    def __call__(self, section: Mapping[str, Any], defaults: Defaults) -> Provider: ...


# The single source for routing, settings validation and `reverse-otp providers`.
REGISTRY: dict[str, Factory] = {
    Simulator.name: Simulator.from_settings,
    Twilio.name: Twilio.from_settings,
    Vonage.name: Vonage.from_settings,
    VonageMessages.name: VonageMessages.from_settings,
    Plivo.name: Plivo.from_settings,
    Telnyx.name: Telnyx.from_settings,
    Bird.name: Bird.from_settings,
    MessageBird.name: MessageBird.from_settings,
    Sinch.name: Sinch.from_settings,
    Infobip.name: Infobip.from_settings,
    Bandwidth.name: Bandwidth.from_settings,
    AwsSns.name: AwsSns.from_settings,
    AndroidSmsGateway.name: AndroidSmsGateway.from_settings,
    SmsGateway24.name: SmsGateway24.from_settings,
    Smsmode.name: Smsmode.from_settings,
    AfricasTalking.name: AfricasTalking.from_settings,
    Textmagic.name: Textmagic.from_settings,
    WhatsApp.name: WhatsApp.from_settings,
    Generic.name: Generic.from_settings,
}


def build_enabled(settings: schema.Settings, nonces: Nonces | None = None) -> dict[str, Guarded]:
    """Build every provider with a settings section, or raise ConfigError naming the problem."""
    defaults = Defaults(
        public_url=settings.server.public_url,
        default_region=settings.phones.default_region,
        numbers={n.number: n.provider for n in settings.numbers},
        nonces=nonces or NoNonces(),
    )
    built: dict[str, Guarded] = {}
    for name, section in settings.providers.items():
        if section.get("enabled", True) is False:
            continue
        factory = REGISTRY.get(name)
        if factory is None:
            raise checks.ConfigError(
                f"providers.{name}: unknown provider; known: {sorted(REGISTRY)}"
            )
        try:
            built[name] = Guarded(factory(section, defaults), section)
        except SettingsError as exc:
            raise checks.ConfigError(str(exc)) from None
    for number in settings.numbers:
        if number.provider not in built:
            raise checks.ConfigError(
                f"numbers: {number.number} names provider {number.provider!r}, "
                f"which has no [providers.{number.provider}] section"
            )
    return built
