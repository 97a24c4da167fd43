"""Renewing a code keeps the format of the challenge's mode: a discovery challenge keeps its
long code, whether renewed through the service or the hosted page's "Get a new code"."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.challenges import InboundMessage
from app.usecases import challenges, context, inbound
from tests.conftest import NUMBER

PHONE = "+33612345678"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": [{"number": NUMBER, "provider": "simulator"}]}


def current_code(ctx: context.Context, token: str) -> str:
    challenge = challenges.challenge_for_token(ctx, token)
    code = challenges.code_for_token(challenge, token)
    assert code is not None
    return code


def test_renewed_discovery_code_keeps_its_format(ctx, clock):
    created = challenges.create_challenge(ctx, None, None, {})
    discovery = ctx.policy.format_for(discovery=True)
    assert len(created.code) == discovery.length == 13
    clock.advance(ctx.policy.renew_cooldown + 1)
    _, code = challenges.renew_code(ctx, created.token)
    assert len(code) == discovery.length
    assert set(code) <= set(discovery.alphabet)
    assert current_code(ctx, created.token) == code


def test_renewed_expected_phone_code_keeps_its_format(ctx, clock):
    created = challenges.create_challenge(ctx, PHONE, None, {})
    clock.advance(ctx.policy.renew_cooldown + 1)
    _, code = challenges.renew_code(ctx, created.token)
    assert len(code) == ctx.policy.format_for(discovery=False).length == 6


def test_hosted_page_renewal_keeps_the_discovery_code_long(client, ctx, clock):
    created = challenges.create_challenge(ctx, None, None, {})
    clock.advance(ctx.policy.renew_cooldown + 1)
    response = client.post(f"/v/{created.token}/renew")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("notice=renewed")
    code = current_code(ctx, created.token)
    assert code != created.code
    assert len(code) == ctx.policy.format_for(discovery=True).length
    message = InboundMessage("simulator", "m1", PHONE, NUMBER, f"VERIFY {code}", PHONE)
    assert inbound.record_inbound(ctx, message).matched


def test_live_api_renewal_keeps_the_discovery_code_long(client, ctx, clock):
    created = challenges.create_challenge(ctx, None, None, {})
    clock.advance(ctx.policy.renew_cooldown + 1)
    response = client.post(f"/api/v1/status/{created.token}/renew")
    assert response.status_code == 200
    assert len(current_code(ctx, created.token)) == 13
