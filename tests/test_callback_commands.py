"""Operators list, replay and prune callbacks from the command line."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.callback_helpers import HOOK, HOOK_SECRET, create, outbox, worker
from tests.conftest import AUTH, base_settings
from tests.e2e.server import write_config


@pytest.fixture
def settings_overrides():
    return {"callbacks": {"url": HOOK, "secret": HOOK_SECRET}}


@pytest.fixture
def cli(tmp_path):
    callbacks = {"url": HOOK, "secret": HOOK_SECRET}
    config = write_config(tmp_path / "config.toml", base_settings(tmp_path, callbacks=callbacks))

    def run(*args, ok=True):
        result = CliRunner().invoke(main, list(args), env={"REVERSE_OTP_CONFIG": str(config)})
        assert (result.exit_code == 0) is ok, result.output
        return result.stdout if ok else result.output

    return run


@pytest.fixture
def abandoned(cli, app, client, requests_mock):
    """One callback the receiver refused (404), so it was abandoned."""
    made = create(client)
    client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    requests_mock.post(HOOK, status_code=404)
    worker(app).run_once()
    [row] = outbox(app)
    assert row["state"] == "abandoned"
    return row


def test_lists_abandoned_callbacks_with_their_last_answer(cli, abandoned):
    [listed] = json.loads(cli("callbacks", "list", "--state", "abandoned", "--json"))
    assert (listed["event_id"], listed["last_status"]) == (abandoned["event_id"], 404)
    assert "body" not in listed
    assert cli("callbacks", "list", "--state", "delivered", "--json").strip() == "[]"


def test_retry_sends_an_abandoned_callback_again_with_the_same_id(
    cli, app, clock, abandoned, requests_mock
):
    cli("callbacks", "retry", abandoned["event_id"])
    clock.current = datetime.now(UTC) + timedelta(seconds=5)  # the command used today's clock
    hook = requests_mock.post(HOOK, status_code=200)
    worker(app).run_once()
    assert outbox(app)[0]["state"] == "delivered"
    assert hook.last_request.headers["webhook-id"] == abandoned["event_id"]


def test_retry_refuses_an_unknown_event(cli):
    assert "no delivered or abandoned callback evt_nope" in cli(
        "callbacks", "retry", "evt_nope", ok=False
    )


def test_prune_deletes_old_ended_callbacks_only(cli, app, client, abandoned):
    pending = create(client)
    client.post(f"/api/v1/challenges/{pending['id']}/cancel", headers=AUTH)
    # The rows ended on the test's clock (January 2026); the command runs on today's.
    assert "deleted 1 callback(s)" in cli("callbacks", "prune", "--days", "1")
    assert [r["state"] for r in outbox(app)] == ["pending"]
