"""Settings: file, environment, development defaults and clear refusals."""

from __future__ import annotations

import pytest

from app import config
from app.config import load
from app.config.checks import ConfigError

GOOD = """
[server]
public_url = "https://verify.reverse-otp.test/"
secret_key = "0123456789abcdef0123456789abcdef-long"

[database]
url = "sqlite:///x.db"

[[numbers]]
number = "+1 501 712 2661"
provider = "twilio"

[providers.twilio]
auth_token = "tok"
"""


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text.replace("sqlite:///x.db", f"sqlite:///{tmp_path / 'x.db'}"))
    return {"REVERSE_OTP_CONFIG": str(path)}


def test_a_config_file_means_production_mode(tmp_path):
    settings = load(environ=write(tmp_path, GOOD))
    assert settings.server.mode == "production"
    assert settings.server.public_url == "https://verify.reverse-otp.test"
    assert settings.numbers[0].number == "+15017122661"
    assert settings.database.url.endswith("x.db")


KEY_A = "api-key-a-0123456789abcdefghijklmn"
KEY_B = "api-key-b-0123456789abcdefghijklmn"


def test_environment_variables_override_single_keys(tmp_path):
    env = write(tmp_path, GOOD) | {
        "REVERSE_OTP_CODES__LENGTH": "8",
        "REVERSE_OTP_DATABASE__URL": "sqlite:///other.db",
        "REVERSE_OTP_PROVIDERS__TWILIO__AUTH_TOKEN": "from-env",
        "REVERSE_OTP_API__KEYS": f'["{KEY_A}", "{KEY_B}"]',
    }
    settings = load(environ=env)
    assert settings.codes.length == 8
    assert settings.database.url == "sqlite:///other.db"
    assert settings.providers["twilio"]["auth_token"] == "from-env"
    assert settings.api.keys == [KEY_A, KEY_B]


def test_no_file_means_development_mode_with_generated_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load(environ={"REVERSE_OTP_SERVER__INSTANCE_DIR": str(tmp_path / "instance")})
    assert settings.development
    assert len(settings.server.secret_key) >= 32
    assert (tmp_path / "instance" / "secret_key").read_text().strip() == settings.server.secret_key
    assert settings.database.url.startswith("sqlite:///")
    assert "simulator" in settings.providers
    assert settings.numbers[0].number == config.DEMO_NUMBER
    again = load(environ={"REVERSE_OTP_SERVER__INSTANCE_DIR": str(tmp_path / "instance")})
    assert again.server.secret_key == settings.server.secret_key


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (
            ('secret_key = "0123456789abcdef0123456789abcdef-long"', 'secret_key = "short"'),
            "server.secret_key",
        ),
        (("[[numbers]]", "[[numbers]]\nbogus = 1"), "numbers.0.bogus"),
        (('number = "+1 501 712 2661"', 'number = "12"'), "numbers.0.number"),
        (("[database]", "[codes]\nlength = 2\n[database]"), "codes.length"),
        (("[database]", '[codes]\nalphabet = "abc"\n[database]'), "codes.alphabet"),
        (
            ('public_url = "https://verify.reverse-otp.test/"', 'public_url = "verify.x.test"'),
            "server.public_url",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_key(tmp_path, change, names):
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load(environ=write(tmp_path, GOOD.replace(*change)))


def test_a_named_config_file_that_is_missing_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a file"):
        load(environ={"REVERSE_OTP_CONFIG": str(tmp_path / "nope.toml")})


def test_invalid_toml_is_refused_with_its_position(tmp_path):
    with pytest.raises(ConfigError, match="line"):
        load(environ=write(tmp_path, "[server\n"))


def test_a_number_naming_a_provider_without_settings_is_refused(tmp_path):
    from app import create_app

    settings = load(
        environ=write(tmp_path, GOOD.replace('provider = "twilio"', 'provider = "simulator"'))
    )
    with pytest.raises(ConfigError, match=r"providers\.simulator"):
        create_app(settings)


def test_a_provider_missing_its_secret_is_refused_naming_the_key(tmp_path):
    from app import create_app

    settings = load(environ=write(tmp_path, GOOD.replace('auth_token = "tok"', "")))
    with pytest.raises(ConfigError, match=r"providers\.twilio\.auth_token"):
        create_app(settings)
