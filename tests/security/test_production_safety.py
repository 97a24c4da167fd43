"""Production mode refuses to start insecurely; each refusal is a test."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from app.config import load
from app.config.checks import ConfigError
from app.providers import build_enabled as build_providers
from tests.conftest import base_settings


def production(tmp_path, **sections):
    raw = base_settings(tmp_path, **sections)
    raw["server"].pop("unsafe_allow_simulator")
    return raw


def test_refuses_the_simulator_in_production(tmp_path):
    with pytest.raises(ConfigError, match=r"providers\.simulator"):
        load(overrides=production(tmp_path), environ={})


def test_the_simulator_runs_in_production_only_when_explicitly_allowed(tmp_path):
    raw = production(tmp_path)
    raw["server"]["unsafe_allow_simulator"] = True
    assert "simulator" in load(overrides=raw, environ={}).providers


def test_a_disabled_simulator_section_is_no_refusal(tmp_path):
    raw = production(tmp_path, numbers=[{"number": "+14155550100", "provider": "twilio"}])
    raw["providers"]["simulator"] = {"enabled": False, "secret": "x"}
    load(overrides=raw, environ={})


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("", "at least 32"),
        ("short-secret", "at least 32"),
        ("change-me-to-a-long-random-string-of-48-characters", "example secret"),
        ("a" * 64, "too few characters"),
        ("abababababababababababababababababab", "too few characters"),
    ],
)
def test_refuses_a_missing_default_short_or_repetitive_secret(tmp_path, secret, why):
    raw = production(tmp_path)
    raw["server"] |= {"secret_key": secret, "unsafe_allow_simulator": True}
    with pytest.raises(ConfigError, match=f"server.secret_key: .*{why}"):
        load(overrides=raw, environ={})


def test_refuses_a_weak_retired_secret(tmp_path):
    raw = production(tmp_path)
    raw["server"] |= {"old_secret_keys": ["old"], "unsafe_allow_simulator": True}
    with pytest.raises(ConfigError, match=r"server.old_secret_keys\[0\]"):
        load(overrides=raw, environ={})


def test_refuses_a_provider_without_its_authenticity_secret(tmp_path):
    raw = production(tmp_path, numbers=[{"number": "+14155550100", "provider": "twilio"}])
    raw["providers"] = {"twilio": {}}
    with pytest.raises(ConfigError, match=r"providers\.twilio\.auth_token"):
        build_providers(load(overrides=raw, environ={}))


def test_development_mode_generates_its_secret_and_production_never_does(tmp_path):
    dev = load(
        overrides={"server": {"mode": "development", "instance_dir": str(tmp_path)}}, environ={}
    )
    assert len(dev.server.secret_key) >= 32
    raw = production(tmp_path)
    raw["server"] |= {"secret_key": "", "unsafe_allow_simulator": True}
    with pytest.raises(ConfigError, match="secret_key"):
        load(overrides=raw, environ={})


def test_warns_when_public_url_is_not_https(tmp_path, caplog):
    raw = base_settings(tmp_path)
    raw["server"]["public_url"] = "http://verify.reverse-otp.test"
    with caplog.at_level(logging.WARNING, logger="app"):
        app = create_app(load(overrides=raw, environ={}))
    app.extensions["reverse_otp"].ctx.store.dispose()
    assert any("public_url is not https" in r.getMessage() for r in caplog.records)


def test_no_warning_with_https(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="app"):
        app = create_app(load(overrides=base_settings(tmp_path), environ={}))
    app.extensions["reverse_otp"].ctx.store.dispose()
    assert not any("https" in r.getMessage() for r in caplog.records)
