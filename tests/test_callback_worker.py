"""The callback worker as a server thread and as a command; its settings are checked."""

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.clock import FakeClock
from app.config import load
from app.config.checks import ConfigError
from app.workers import jobs
from tests.callback_helpers import HOOK, HOOK_SECRET, create, outbox
from tests.conftest import AUTH, base_settings, runtime
from tests.e2e.server import write_config

LOCAL_HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def clock():
    # The command runs on the system clock; events must be recent for it.
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def settings_overrides():
    return {"callbacks": {"url": HOOK, "secret": HOOK_SECRET, "poll_interval": 0.05}}


def cancel_one(client):
    made = create(client)
    client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    return made


def test_the_server_scheduler_delivers_callbacks(tmp_path, requests_mock, clock):
    # The scheduler's worker resolves host names for real: a literal loopback address needs none.
    callbacks = {"url": HOOK, "secret": HOOK_SECRET, "allow_private": True}
    app = create_app(
        load(overrides=base_settings(tmp_path, callbacks=callbacks), environ={}), clock
    )
    made = create(app.test_client(), callback_url=LOCAL_HOOK)
    app.test_client().post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    hook = requests_mock.post(LOCAL_HOOK, status_code=200)
    scheduler = jobs.for_app(app)
    scheduler.run_pending()
    scheduler.stop()  # waits for the deliveries under way
    runtime(app).ctx.store.dispose()
    assert hook.call_count == 1


def test_serving_runs_no_delivery_job_when_the_worker_is_turned_off(tmp_path):
    raw = base_settings(tmp_path, callbacks={"worker": False})
    app = create_app(load(overrides=raw, environ={}))
    names = [job.name for job in jobs.for_app(app).jobs]
    runtime(app).ctx.store.dispose()
    assert "callbacks" not in names
    assert "expire" in names


def test_callbacks_run_once_delivers_what_is_due(tmp_path, requests_mock, settings, clock):
    # The command resolves host names for real: a literal loopback address needs no DNS.
    callbacks = {"url": HOOK, "secret": HOOK_SECRET, "allow_private": True}
    config = write_config(tmp_path / "config.toml", base_settings(tmp_path, callbacks=callbacks))
    app = create_app(settings, clock=clock)
    client = app.test_client()
    made = create(client, callback_url=LOCAL_HOOK)
    client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    hook = requests_mock.post(LOCAL_HOOK, status_code=200)
    result = CliRunner().invoke(
        main, ["callbacks", "run", "--once"], env={"REVERSE_OTP_CONFIG": str(config)}
    )
    assert result.exit_code == 0, result.output
    states = [r["state"] for r in outbox(app)]
    runtime(app).ctx.store.dispose()
    assert (states, hook.call_count) == (["delivered"], 1)


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"url": HOOK}, "secret"),
        ({"url": HOOK, "secret": "whsec_short"}, "secret"),
        ({"url": "ftp://x.example/", "secret": HOOK_SECRET}, "url"),
        ({"lease": 5, "read_timeout": 10}, "lease"),
    ],
)
def test_refuses_unusable_callback_settings(tmp_path, section, named):
    with pytest.raises(ConfigError, match=named):
        load(overrides=base_settings(tmp_path, callbacks=section), environ={})
