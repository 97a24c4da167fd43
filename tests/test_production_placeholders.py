"""Production refuses values copied from config.example.toml, example domains and the
development database, each with one line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import checks, load
from app.config.checks import ConfigError
from tests.conftest import base_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
# Keys whose values in config.example.toml stand for the operator's own credential.
CREDENTIAL_KEYS = (
    "auth_token",
    "app_secret",
    "verify_token",
    "signature_secret",
    "signing_key",
    "signing_secret",
    "basic_password",
    "path_token",
    "public_key",
    "secret",
    "token",
    "key",
)


def example_credentials() -> set[str]:
    """Every quoted credential value in config.example.toml, commented-out lines included."""
    pattern = re.compile(r'^#?\s*(\w+)\s*=\s*"([^"]+)"', re.MULTILINE)
    return {v for k, v in pattern.findall(EXAMPLE.read_text()) if k in CREDENTIAL_KEYS}


def production(tmp_path):
    return base_settings(tmp_path)


def test_every_credential_placeholder_of_the_example_file_is_known():
    found = example_credentials()
    assert "your-twilio-auth-token" in found
    assert found <= checks.PLACEHOLDERS


def test_refuses_the_example_twilio_auth_token(tmp_path):
    raw = production(tmp_path)
    raw["providers"]["twilio"]["auth_token"] = "your-twilio-auth-token"
    with pytest.raises(ConfigError) as caught:
        load(overrides=raw, environ={})
    assert str(caught.value).startswith("providers.twilio.auth_token: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", sorted(example_credentials()))
def test_refuses_every_credential_placeholder_of_the_example_file(tmp_path, value):
    raw = production(tmp_path)
    raw["providers"]["twilio"]["account_sid"] = value
    with pytest.raises(ConfigError, match=r"^providers\.twilio\.account_sid: .*config\.example"):
        load(overrides=raw, environ={})


@pytest.mark.parametrize(("section", "key"), [("admin", "key"), ("metrics", "token")])
def test_refuses_placeholders_in_admin_and_metrics_keys(tmp_path, section, key):
    raw = production(tmp_path)
    raw[section] = {key: "a-long-random-string"}
    with pytest.raises(ConfigError, match=rf"^{section}\.{key}: "):
        load(overrides=raw, environ={})


@pytest.mark.parametrize(
    "url",
    [
        "https://verify.example.com",
        "https://example.com",
        "https://example.org/verify",
        "https://a.b.example.net",
        "https://EXAMPLE.COM",
    ],
)
def test_refuses_an_example_domain_as_public_url(tmp_path, url):
    raw = production(tmp_path)
    raw["server"]["public_url"] = url
    with pytest.raises(ConfigError, match=r"^server\.public_url: .*example"):
        load(overrides=raw, environ={})


@pytest.mark.parametrize("url", ["https://myexample.com", "https://example.com.evil.io"])
def test_a_domain_merely_containing_example_is_accepted(tmp_path, url):
    raw = production(tmp_path)
    raw["server"]["public_url"] = url
    assert load(overrides=raw, environ={}).server.public_url == url


def test_refuses_the_development_database_in_production(tmp_path):
    raw = production(tmp_path)
    instance = tmp_path / "instance"
    instance.mkdir()
    raw["database"]["url"] = f"sqlite:///{instance / 'reverse-otp.db'}"
    with pytest.raises(ConfigError, match=r"^database\.url: .*development database"):
        load(overrides=raw, environ={})


def test_refuses_the_example_database_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "instance").mkdir()
    raw = production(tmp_path)
    raw["database"]["url"] = "sqlite:///instance/reverse-otp.db"
    raw["server"].pop("instance_dir")
    with pytest.raises(ConfigError, match=r"^database\.url: .*development database"):
        load(overrides=raw, environ={})


def test_development_mode_keeps_its_own_database(tmp_path):
    dev = load(
        overrides={"server": {"mode": "development", "instance_dir": str(tmp_path)}}, environ={}
    )
    assert dev.database.url.endswith("reverse-otp.db")


def test_refuses_a_placeholder_in_a_sender(tmp_path):
    raw = production(tmp_path)
    raw["fallback"] = {"allowed_countries": ["FR"]}
    sender = {"kind": "twilio", "account_sid": "AC1", "from": "+15005550006"}
    raw["senders"] = [sender | {"auth_token": "your-twilio-auth-token"}]
    with pytest.raises(ConfigError, match=r"^senders\[0\]\.auth_token: .*config\.example"):
        load(overrides=raw, environ={})
