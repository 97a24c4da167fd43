"""Apps: the CLI manages them, their keys act for them, their settings shape challenges."""

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from app.domain import callbacks
from app.store.tables import api_keys
from app.usecases import api_keys as api_key_cases
from app.usecases import apps, challenges, context, inbound, texts
from tests.callback_helpers import HOOK, HOOK_SECRET, PHONE, create, outbox, text_in, worker
from tests.conftest import API_KEY, AUTH, NUMBER, TWILIO_NUMBER, base_settings, runtime
from tests.e2e.server import write_config


@pytest.fixture
def settings_overrides():
    return {"codes": {"template": "{name} VERIFY {code}"}}


@pytest.fixture
def cli(tmp_path):
    """Run `reverse-otp ...` against the test database; return a function giving stdout."""
    config = write_config(tmp_path / "config.toml", base_settings(tmp_path))
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, list(args), env={"REVERSE_OTP_CONFIG": str(config)})
        assert (result.exit_code == 0) is ok, result.output
        return result.stdout if ok else result.output

    return run


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_create_shows_the_key_and_secret_once_and_list_never_does(cli):
    made = json.loads(cli("apps", "create", "--name", "Shop", "--json"))
    assert made["api_key"].startswith("rotp_")
    assert made["callback_secret"].startswith("whsec_")
    listed = cli("apps", "list", "--json")
    assert json.loads(listed)[0]["app_id"] == made["app_id"]
    assert made["api_key"] not in listed and made["callback_secret"] not in listed


def test_keys_are_stored_only_as_digests(cli, app):
    made = json.loads(cli("apps", "create", "--name", "Shop", "--json"))
    store = runtime(app).ctx.store
    with store.reader.connect() as conn:
        stored = list(conn.execute(select(api_keys.c.key_hash)).scalars())
    assert stored == [api_key_cases.api_key_hash(made["api_key"])]


def test_an_app_key_creates_challenges_owned_by_that_app(cli, client):
    made = json.loads(cli("apps", "create", "--name", "Shop", "--json"))
    challenge = create(client, headers=bearer(made["api_key"]))
    shown = client.get(f"/api/v1/challenges/{challenge['id']}", headers=bearer(made["api_key"]))
    assert shown.status_code == 200


def test_an_app_cannot_see_or_cancel_another_apps_challenge(cli, client):
    mine = json.loads(cli("apps", "create", "--name", "Mine", "--json"))
    theirs = create(client, headers=AUTH)
    url = f"/api/v1/challenges/{theirs['id']}"
    assert client.get(url, headers=bearer(mine["api_key"])).status_code == 404
    assert client.post(url + "/cancel", headers=bearer(mine["api_key"])).status_code == 404
    assert client.get(url, headers=AUTH).json["status"] == "pending"


def test_rotating_a_key_retires_the_old_one(cli, client):
    made = json.loads(cli("apps", "create", "--name", "Shop", "--json"))
    new_key = cli("apps", "rotate-key", made["app_id"]).strip()
    assert (
        client.post("/api/v1/challenges", json={}, headers=bearer(made["api_key"])).status_code
        == 401
    )
    assert client.post("/api/v1/challenges", json={}, headers=bearer(new_key)).status_code == 201


def test_rotating_with_keep_old_leaves_both_keys_working(cli, client):
    made = json.loads(cli("apps", "create", "--name", "Shop", "--json"))
    new_key = cli("apps", "rotate-key", made["app_id"], "--keep-old").strip()
    for key in (made["api_key"], new_key):
        assert client.post("/api/v1/challenges", json={}, headers=bearer(key)).status_code == 201


def test_revoking_an_app_refuses_its_keys(cli, client):
    made = json.loads(cli("apps", "create", "--name", "Shop", "--json"))
    cli("apps", "revoke", made["app_id"])
    assert (
        client.post("/api/v1/challenges", json={}, headers=bearer(made["api_key"])).status_code
        == 401
    )
    assert "revoked" in cli("apps", "list")


def test_unknown_apps_and_numbers_are_refused_by_name(cli):
    assert "no live app app_nope" in cli("apps", "revoke", "app_nope", ok=False)
    assert "+15550000000" in cli(
        "apps", "create", "--name", "X", "--number", "+15550000000", ok=False
    )


def test_app_name_fills_the_sms_template(cli, client):
    made = json.loads(cli("apps", "create", "--name", "Acme", "--json"))
    assert create(client, headers=bearer(made["api_key"]))["body"].startswith("Acme ")


@pytest.mark.parametrize("name", ["Shop 123456", "Bank 12 3456", "Acme 42 Pay", "A1B2C3D4E5F6G"])
def test_an_app_name_that_reads_as_a_code_is_refused(ctx, name):
    with pytest.raises(context.ServiceError) as refused:
        apps.register(ctx, name)
    assert refused.value.code == "invalid_name"


def test_an_app_name_that_reads_as_a_code_is_refused_by_the_cli(cli):
    assert "reads as a code" in cli("apps", "create", "--name", "Shop 123456", ok=False)


def test_a_verifying_sms_of_a_named_app_spends_no_budget(ctx, client):
    made = apps.register(ctx, "Acme Pay")
    created = challenges.create_challenge(ctx, None, None, {}, app=made.app)
    text = texts.sms_text(ctx, created.code, made.app.name)
    assert inbound.candidates_in(ctx.policy, text) == [created.code]


def test_app_default_ttl_and_numbers_apply(ctx):
    made = apps.register(ctx, "Shop", numbers=(TWILIO_NUMBER,), ttl=120)
    challenge = challenges.create_challenge(ctx, None, None, {}, app=made.app).challenge
    assert challenge.number == TWILIO_NUMBER
    assert (challenge.expires_at - challenge.created_at).total_seconds() == 120
    assert challenge.app_id == made.app.id


def test_configured_keys_keep_acting_for_the_default_app(ctx, client):
    caller = apps.caller(ctx, API_KEY, [API_KEY])
    assert caller is not None and caller.app.id == "default"
    assert create(client)["to"] in (NUMBER, TWILIO_NUMBER)


def test_an_apps_callbacks_go_to_its_url_signed_with_its_secret(ctx, app, client, requests_mock):
    made = apps.register(ctx, "Shop", callback_url=HOOK, numbers=(NUMBER,), full_phone=True)
    challenge = create(client, headers=bearer(made.key), phone=PHONE)
    text_in(client, PHONE, challenge["body"])
    hook = requests_mock.post(HOOK, status_code=200)
    worker(app).run_once()
    sent = hook.last_request
    event_id, stamp = sent.headers["webhook-id"], int(sent.headers["webhook-timestamp"])
    assert made.app.callback_secret != HOOK_SECRET
    assert sent.headers["webhook-signature"] == callbacks.sign(
        made.app.callback_secret, event_id, stamp, sent.body
    )
    assert json.loads(sent.body)["data"]["verified_phone"] == PHONE


def test_an_app_without_callback_url_records_no_callback(ctx, app, client):
    made = apps.register(ctx, "Quiet")
    challenge = create(client, headers=bearer(made.key))
    client.post(f"/api/v1/challenges/{challenge['id']}/cancel", headers=bearer(made.key))
    assert outbox(app) == []


def test_a_per_challenge_callback_url_needs_no_app_url(ctx, app, client):
    made = apps.register(ctx, "Quiet")
    challenge = create(client, headers=bearer(made.key), callback_url=HOOK)
    client.post(f"/api/v1/challenges/{challenge['id']}/cancel", headers=bearer(made.key))
    assert [r["url"] for r in outbox(app)] == [HOOK]


def test_a_revoked_apps_pending_callbacks_are_abandoned(ctx, app, client, requests_mock):
    made = apps.register(ctx, "Shop", callback_url=HOOK)
    challenge = create(client, headers=bearer(made.key))
    client.post(f"/api/v1/challenges/{challenge['id']}/cancel", headers=bearer(made.key))
    apps.revoke(ctx, made.app.id)
    hook = requests_mock.post(HOOK, status_code=200)
    worker(app).run_once()
    assert (outbox(app)[0]["state"], hook.call_count) == ("abandoned", 0)


def test_a_rotated_secret_signs_alongside_the_old_one_during_the_grace(
    ctx, app, client, clock, requests_mock
):
    made = apps.register(ctx, "Shop", callback_url=HOOK)
    new = apps.rotate_secret(ctx, made.app.id, timedelta(hours=1))
    hook = requests_mock.post(HOOK, status_code=200)
    deliverer = worker(app)

    def signatures():
        challenge = create(client, headers=bearer(made.key))
        client.post(f"/api/v1/challenges/{challenge['id']}/cancel", headers=bearer(made.key))
        deliverer.run_once()
        sent = hook.last_request
        stamp = int(sent.headers["webhook-timestamp"])
        expected = {
            name: callbacks.sign(secret, sent.headers["webhook-id"], stamp, sent.body)
            for name, secret in (("old", made.app.callback_secret), ("new", new))
        }
        given = sent.headers["webhook-signature"].split()
        return {name for name, sig in expected.items() if sig in given}

    assert signatures() == {"new", "old"}
    clock.advance(3601)
    assert signatures() == {"new"}
