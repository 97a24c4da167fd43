"""Our callbacks verify with the standardwebhooks library and with the receiver in our docs."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.clock import FakeClock
from tests.callback_helpers import (
    HOOK,
    HOOK_SECRET,
    PHONE,
    SIMULATOR_ONLY,
    create,
    text_in,
    worker,
)

DOC = Path(__file__).parents[1] / "docs" / "callbacks.md"


def documented_verify():
    """Return the `verify` function of docs/callbacks.md, run from the doc's own text."""
    text = DOC.read_text()
    block = re.search(r"<!-- stdlib-receiver.*?-->\s*```python\n(.*?)```", text, re.S)
    assert block, "docs/callbacks.md lost its standard-library receiver"
    namespace: dict = {}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)
    return namespace["verify"]


@pytest.fixture
def settings_overrides():
    return {"callbacks": {"url": HOOK, "secret": HOOK_SECRET}, "numbers": SIMULATOR_ONLY}


@pytest.fixture
def clock():
    # Receivers judge freshness by the real time; start 10 minutes in the past, so the
    # first attempt is stale and the next, 10 minutes later, is fresh.
    return FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10))


@pytest.fixture
def attempts(app, client, clock, requests_mock):
    """A stale attempt (answered 500) and a fresh retry of the same event."""
    made = create(client, phone=PHONE)
    text_in(client, PHONE, made["body"])
    hook = requests_mock.post(HOOK, [{"status_code": 500}, {"status_code": 200}])
    deliverer = worker(app)
    deliverer.run_once()
    clock.advance(600)
    deliverer.run_once()
    stale, fresh = hook.request_history
    return stale, fresh


def test_the_standardwebhooks_library_verifies_a_callback(attempts):
    _, fresh = attempts
    event = Webhook(HOOK_SECRET).verify(fresh.body, dict(fresh.headers))
    assert event["type"] == "challenge.verified"


def test_the_documented_receiver_verifies_a_callback(attempts):
    _, fresh = attempts
    assert documented_verify()(HOOK_SECRET, dict(fresh.headers), fresh.body)


def test_the_standardwebhooks_library_rejects_a_stale_timestamp(attempts):
    stale, _ = attempts
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(HOOK_SECRET).verify(stale.body, dict(stale.headers))


def test_the_documented_receiver_rejects_a_stale_timestamp(attempts):
    stale, _ = attempts
    assert not documented_verify()(HOOK_SECRET, dict(stale.headers), stale.body)


def test_both_reject_a_tampered_body(attempts):
    _, fresh = attempts
    forged = fresh.body.replace(b"verified", b"cancelled", 1)
    assert not documented_verify()(HOOK_SECRET, dict(fresh.headers), forged)
    with pytest.raises(WebhookVerificationError):
        Webhook(HOOK_SECRET).verify(forged, dict(fresh.headers))


def test_both_reject_another_secret(attempts):
    _, fresh = attempts
    other = "whsec_" + "A" * 43 + "="
    assert not documented_verify()(other, dict(fresh.headers), fresh.body)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(fresh.body, dict(fresh.headers))


def test_retries_keep_the_event_id_and_sign_a_new_timestamp(attempts):
    stale, fresh = attempts
    assert stale.headers["webhook-id"] == fresh.headers["webhook-id"]
    assert int(fresh.headers["webhook-timestamp"]) - int(stale.headers["webhook-timestamp"]) == 600
