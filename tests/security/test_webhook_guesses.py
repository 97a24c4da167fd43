"""Path tokens and Basic credentials of webhooks are throttled per address like every other
credential (security round 2): they are the only webhook secrets a client presents whole."""

from __future__ import annotations

import base64

import pytest

from tests.providers.helpers import provider_app
from tests.providers.samples import SAMPLES, SENDER, build

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
PROVIDER_ADDR = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def webhook_app(tmp_path, clock):
    """Build a production app with the given providers; close its store afterwards."""
    built = []

    def make(*providers):
        app = provider_app(tmp_path, clock, *providers)
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["reverse_otp"].ctx.store.dispose()


def _limit(app) -> int:
    return int(app.extensions["reverse_otp"].settings.limits.credential_failures.split("/")[0])


def _sample(provider, clock, mid="m-1"):
    return build(provider, "hello 123456", SENDER, SAMPLES[provider].number, mid, clock.now())


def _send(client, sample, path=None, headers=None, environ=ATTACKER):
    return client.open(
        path or sample.path,
        method=sample.method,
        headers=sample.headers if headers is None else headers,
        data=sample.body,
        environ_base=environ,
    )


def test_path_token_guesses_are_refused_after_the_limit_even_when_right(webhook_app, clock):
    app = webhook_app("smsmode")
    client = app.test_client()
    sample = _sample("smsmode", clock)
    wrong = sample.path.replace(SAMPLES["smsmode"].key, "guess-guess-guess-guess")
    for _ in range(_limit(app)):
        assert _send(client, sample, path=wrong).status_code == 403
    refused = _send(client, sample)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_failures"
    assert int(refused.headers["Retry-After"]) > 0
    # The provider, calling from its own address, is not locked out.
    assert _send(client, sample, environ=PROVIDER_ADDR).status_code == 200


def test_basic_credential_guesses_are_refused_after_the_limit_even_when_right(webhook_app, clock):
    app = webhook_app("infobip")
    client = app.test_client()
    sample = _sample("infobip", clock)
    guess = "Basic " + base64.b64encode(b"user:guess").decode()
    for _ in range(_limit(app)):
        response = _send(client, sample, headers=sample.headers | {"Authorization": guess})
        assert response.status_code == 401
    assert _send(client, sample).status_code == 429
    assert _send(client, sample, environ=PROVIDER_ADDR).status_code == 200


@pytest.mark.parametrize("provider", ["simulator", "twilio"])
def test_signed_providers_are_not_throttled(webhook_app, clock, provider):
    """A bad signature cannot be guessed online: it is refused, never counted."""
    app = webhook_app(provider)
    client = app.test_client()
    sample = _sample(provider, clock)
    forged = sample.with_body(sample.body + b"x")
    for _ in range(_limit(app) + 2):
        assert _send(client, forged).status_code in {400, 403}
    assert _send(client, sample).status_code == 200
