"""How `reverse-otp serve` runs gunicorn: gevent workers sized for many open streams."""

from __future__ import annotations

import resource

from app.cli.server import (
    capped_worker,
    conf_file,
    default_workers,
    fair_worker,
    log_config,
    options,
    prepare_metrics_dir,
    raise_open_files,
    single_process_events,
)
from app.config import load
from tests.conftest import base_settings
from tests.e2e.server import write_config


def test_serves_with_fair_gevent_workers_holding_many_connections():
    settings = options("127.0.0.1", 8000, 2, worker_connections=12_000)
    assert settings["worker_class"] is fair_worker()
    assert settings["worker_connections"] == 12_000
    assert settings["accesslog"] is None  # paths carry status tokens


def test_gunicorn_control_socket_stays_off():
    assert options("127.0.0.1", 8000, 1)["control_socket_disable"] is True


def test_one_worker_on_sqlite_two_on_postgresql():
    assert default_workers("sqlite:////var/lib/reverse-otp/db.sqlite") == 1
    assert default_workers("postgresql+psycopg://db/reverse_otp") == 2


def test_open_files_limit_is_raised_towards_the_streams_wanted():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = soft + 16 if hard == resource.RLIM_INFINITY else min(soft + 16, hard)
    raise_open_files(wanted)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted


def test_one_in_process_worker_does_not_poll_the_database(settings):
    assert settings.events.poll_interval == 0.5
    assert single_process_events(settings, 1).events.poll_interval == 0
    assert single_process_events(settings, 2).events.poll_interval == 0.5


def test_an_explicit_poll_interval_is_kept_for_one_worker(tmp_path):
    raw = base_settings(tmp_path, events={"poll_interval": 1.0})
    settings = load(overrides=raw, environ={})
    assert single_process_events(settings, 1).events.poll_interval == 1.0


def test_makes_a_temporary_metrics_folder_when_none_is_set():
    environ: dict[str, str] = {}
    made = prepare_metrics_dir(environ)
    assert made is not None and made.is_dir()
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(made)
    made.rmdir()


def test_empties_the_operators_metrics_folder_of_the_last_run(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("kept")
    assert prepare_metrics_dir({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_gunicorn_access_log_stays_off_and_lines_are_json():
    config = options("127.0.0.1", 8000, 2)["logconfig_dict"]
    assert config["loggers"]["gunicorn.access"] == {
        "level": "CRITICAL", "handlers": [], "propagate": False,
    }  # fmt: skip
    assert log_config("INFO")["formatters"]["json"]["()"] == "app.ops.logs.JsonFormatter"


def test_bare_gunicorn_gets_the_settings_of_serve_but_the_address(tmp_path, monkeypatch):
    raw = base_settings(tmp_path)
    config = write_config(tmp_path / "config.toml", raw)
    monkeypatch.setenv("REVERSE_OTP_CONFIG", str(config))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    found = conf_file()
    workers = default_workers(raw["database"]["url"])
    served = options("127.0.0.1", 8000, workers, worker_connections=10_000, max_per_peer=50)
    assert "bind" not in found  # gunicorn's --bind, default 127.0.0.1:8000 like serve
    assert {k: v for k, v in served.items() if k != "bind"}.items() <= found.items()
    assert found["worker_class"] is capped_worker(50)  # gevent, one address capped
