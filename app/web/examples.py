"""Examples shown in /openapi.json, one per answer model (a test checks each against its
schema)."""

from __future__ import annotations

from typing import Any

# Examples shown in /openapi.json (a test checks each against its schema).
EXAMPLE_CHALLENGE: dict[str, Any] = {
    "id": "ch_3mR8yT0kLq2VbN5xZ1wJ4A",
    "status": "verified",
    "to": "+15017122661",
    "phone": "+33612345678",
    "created_at": "2026-03-01T09:29:00Z",
    "expires_at": "2026-03-01T09:39:00Z",
    "verified_phone": "+33612345678",
    "verified_at": "2026-03-01T09:30:00Z",
    "attempts": 0,
    "failure_reason": None,
    "metadata": {"order": 42},
    "method": "inbound_sms",
    "channels": ["sms", "whatsapp"],
    "channel": "sms",
    "locale": "en",
    "return_url": "https://shop.example/signup/phone-done",
    # Signed by EXAMPLE_JWKS's key (it verifies; long expired).
    "proof": (
        "eyJhbGciOiJFUzI1NiIsImtpZCI6Ik5NcG1kanpVUzkwSGZ5X2xsQVlvUGVydjNFWDFtckZtZV8xbHVUb2dv"
        "TkkiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL3ZlcmlmeS5leGFtcGxlLmNvbSIsInN1YiI6IiszM"
        "zYxMjM0NTY3OCIsImF1ZCI6ImRlZmF1bHQiLCJqdGkiOiJjaF8zbVI4eVQwa0xxMlZiTjV4WjF3SjRBIiwia"
        "WF0IjoxNzcyMzU3NDAwLCJleHAiOjE3NzIzNTgwMDAsImFtciI6WyJzbXMiXSwibWV0YWRhdGFfc2hhMjU2I"
        "joiVkpoZHc4RXZyYWVoc2R0VHp5UFR5OVM4dm1UaHp2bFFjZUlIUGl6djlPMCJ9.JGYoWX7QMcjtzGTUML7N"
        "kZldU_Lr7prjYhXouJfAqB-dYi1VKEEIOdqgxaXW4vO_jkp50QS-6RoCqu12Cvg2zg"
    ),
}
EXAMPLE_JWKS: dict[str, Any] = {
    "keys": [
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "JojKOipVQjucpZzQNddwN6NGAM34qEAnNfYHnwWnOyM",
            "y": "Pc12IezzG4H-TCw-ss-zfVJrXQtrZ9bmGKyFK2sABco",
            "kid": "NMpmdjzUS90Hfy_llAYoPerv3EX1mrFme_1luTogoNI",
            "use": "sig",
            "alg": "ES256",
        }
    ]
}
EXAMPLE_TOKEN = "m3Q0c2tZVnVhS1N5cXlCd0hXb3l6a3JpN3RnTmZ4dFg"  # noqa: S105 - an example
EXAMPLE_WHATSAPP: dict[str, Any] = {
    "uri": "https://wa.me/15017122661?text=VERIFY%207KQ4MZ%20to%20sign%20in%20to%20Acme",
    "qr_svg_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}/qr.svg?channel=whatsapp",
    "qr_png_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}/qr.png?channel=whatsapp",
}
EXAMPLE_CREATED: dict[str, Any] = EXAMPLE_CHALLENGE | {
    "status": "pending",
    "verified_phone": None,
    "verified_at": None,
    "method": None,
    "proof": None,
    "channel": None,
    "code": "7KQ4MZ",
    "body": "VERIFY 7KQ4MZ to sign in to Acme",
    "sms_uri": "sms:+15017122661?body=VERIFY%207KQ4MZ%20to%20sign%20in%20to%20Acme",
    "qr_svg_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}/qr.svg",
    "qr_png_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}/qr.png",
    "whatsapp": EXAMPLE_WHATSAPP,
    "token": EXAMPLE_TOKEN,
    "status_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}",
    "events_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}/events",
    "verify_url": f"https://verify.example.com/v/{EXAMPLE_TOKEN}",
}
EXAMPLE_STATUS: dict[str, Any] = {
    "expires_at": "2026-03-01T09:39:00Z",
    "phone": "+33 6** *** *78",
    "verified_at": "2026-03-01T09:30:00Z",
    "status": "verified",
    "channel": "whatsapp",
    "attempts": 0,
}
EXAMPLE_MESSAGE: dict[str, Any] = {
    "to": "+15017122661",
    "body": "VERIFY 7KQ4MZ to sign in to Acme",
    "sms_uri": "sms:+15017122661?body=VERIFY%207KQ4MZ%20to%20sign%20in%20to%20Acme",
    "qr_svg_url": f"https://verify.example.com/api/v1/status/{EXAMPLE_TOKEN}/qr.svg",
    "expires_at": "2026-03-01T09:39:00Z",
    "renewals": 0,
    "renew_in": 12,
    "channels": ["sms", "whatsapp"],
    "whatsapp": EXAMPLE_WHATSAPP,
}
EXAMPLE_ERROR: dict[str, Any] = {
    "code": "invalid_phone",
    "message": "phone number is not a valid number",
}
EXAMPLE_CALLBACK: dict[str, Any] = {
    "id": "evt_2d4SxQy0pLr8mVt1",
    "type": "challenge.verified",
    "timestamp": "2026-03-01T09:30:01Z",
    "data": EXAMPLE_CHALLENGE
    | {
        "phone": "+33 6** *** *78",
        "verified_phone": "+33 6** *** *78",
        "ended_at": "2026-03-01T09:30:00Z",
    },
}
