"""Request bodies of the public API, validated strictly (unknown fields are refused)."""

from __future__ import annotations

import ipaddress
import json
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.domain import locales
from app.usecases.context import MAX_METADATA_BYTES, ServiceError


class CreateChallenge(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"phone": "+33612345678", "ttl": 300, "metadata": {"order": 42}},
                {"client_ip": "2001:db8:1:2::17"},
                {"phone": "+33612345678", "channels": ["whatsapp"]},
            ]
        },
    )

    phone: str | None = Field(None, max_length=32, description="expected phone; omit for discovery")
    ttl: int | None = Field(None, description="lifetime in seconds")
    metadata: dict[str, Any] | None = Field(None, description="your own data, at most 2 KiB")
    callback_url: str | None = Field(
        None, max_length=2000, description="where this challenge's callbacks go (else the app's)"
    )
    channels: list[str] | None = Field(
        None,
        max_length=4,
        description="how the user may send the code: any of sms, whatsapp (default: every"
        " channel the app's numbers receive)",
    )
    client_ip: str | None = Field(
        None,
        max_length=64,
        description="the end user's IP address (IPv4 or IPv6) as your backend sees it; the"
        " per-IP creation limit counts this address, and only when it is given",
    )

    locale: str | None = Field(
        None,
        max_length=35,
        description="BCP 47 language tag of the SMS text and the hosted page (en, fr, es, de,"
        " pt, it, ar; fr-CA reads as fr); another well-formed tag leaves the language to the"
        " user's browser; omit it to follow the browser's Accept-Language",
        examples=["fr"],
    )
    return_url: str | None = Field(
        None,
        max_length=2000,
        description="where the hosted page leads when it is done, with challenge_id and status"
        " appended (and, once verified, #proof=<jws> in the fragment): https, its origin in"
        " the app's or [page] return_origins",
        examples=["https://shop.example/signup/phone-done"],
    )

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else locales.check_tag(value)

    email: str | None = Field(
        None,
        max_length=254,
        description="expected email address: the fallback may send a code there"
        " (`POST /challenges/{id}/send` with channel `email`); one bare address, no display name",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Header injection first and by name: CR, LF or any control character.
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise ValueError("must not contain control characters (CR, LF, ...)")
        try:
            found = validate_email(
                value, check_deliverability=False, allow_smtputf8=False, allow_display_name=False
            )
        except EmailNotValidError as exc:
            raise ValueError(f"must be one email address ({exc})") from None
        address = str(found.ascii_email or found.normalized)
        if len(address.rpartition("@")[0]) > 64:  # RFC 5321 §4.5.3.1.1
            raise ValueError("must have at most 64 characters before the @")
        return address

    @field_validator("client_ip")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("must be an IPv4 or IPv6 address") from None

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value).encode()) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must serialise to at most {MAX_METADATA_BYTES} bytes")
        return value


class CheckCode(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"code": "424242"}]}
    )

    code: str = Field(min_length=1, max_length=64, description="the code the user typed")


Body = TypeVar("Body", CreateChallenge, CheckCode)


def parse_body(model: type[Body], data: Any) -> Body:
    """Validate a decoded JSON body, raising a ServiceError that names the first problem."""
    if not isinstance(data, dict):
        raise ServiceError("invalid_request", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ServiceError("invalid_request", f"{where}: {first['msg']}") from None
