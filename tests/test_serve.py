"""How `reverse-otp serve` runs gunicorn: gevent workers sized for many open streams."""

from __future__ import annotations

import resource

from app.serve import default_workers, options, raise_open_files


def test_serves_with_gevent_workers_holding_many_connections():
    settings = options("127.0.0.1", 8000, 2, worker_connections=12_000)
    assert settings["worker_class"] == "gevent"
    assert settings["worker_connections"] == 12_000
    assert settings["accesslog"] is None  # paths carry status tokens


def test_one_worker_on_sqlite_two_on_postgresql():
    assert default_workers("sqlite:////var/lib/reverse-otp/db.sqlite") == 1
    assert default_workers("postgresql+psycopg://db/reverse_otp") == 2


def test_open_files_limit_is_raised_towards_the_streams_wanted():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = soft + 16 if hard == resource.RLIM_INFINITY else min(soft + 16, hard)
    raise_open_files(wanted)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted
