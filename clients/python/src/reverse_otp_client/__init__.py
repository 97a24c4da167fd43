"""Client for reverse-otp, self-hosted reverse OTP phone verification.

from reverse_otp_client import Client

client = Client("https://verify.example.com", api_key="...")
challenge = client.create(phone="+33612345678")   # show challenge.body / sms_uri / QR
status = client.wait(challenge.token, timeout=120)  # "verified" once the SMS arrives
"""

from reverse_otp_client._core import OPERATIONS, Retry
from reverse_otp_client.aio import AsyncClient
from reverse_otp_client.client import Client
from reverse_otp_client.errors import (
    Conflict,
    InvalidCallback,
    InvalidProof,
    InvalidRequest,
    NetworkError,
    NotFound,
    ProtocolError,
    RateLimited,
    ReverseOtpError,
    Unauthorized,
    Unavailable,
)
from reverse_otp_client.models import (
    CallbackChallenge,
    CallbackEvent,
    Challenge,
    CodeSent,
    CreatedChallenge,
    Status,
    StatusName,
)
from reverse_otp_client.proofs import verify_proof
from reverse_otp_client.webhooks import verify_callback

__version__ = "0.1.0"

__all__ = [
    "OPERATIONS",
    "AsyncClient",
    "CallbackChallenge",
    "CallbackEvent",
    "Challenge",
    "Client",
    "CodeSent",
    "Conflict",
    "CreatedChallenge",
    "InvalidCallback",
    "InvalidProof",
    "InvalidRequest",
    "NetworkError",
    "NotFound",
    "ProtocolError",
    "RateLimited",
    "Retry",
    "ReverseOtpError",
    "Status",
    "StatusName",
    "Unauthorized",
    "Unavailable",
    "__version__",
    "verify_callback",
    "verify_proof",
]
