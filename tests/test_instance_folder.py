"""Where the instance folder is: never the current directory by accident, and always said."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from app import config
from app.config import places

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("reverse-otp")


def settings_file(folder: Path, *lines: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text("\n".join(["[server]", 'mode = "development"', *lines]) + "\n")
    return path


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    return subprocess.run(
        [str(EXE), *args],
        cwd=cwd,
        env=environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def instance_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("instance folder: ")]


def test_a_relative_instance_dir_follows_the_settings_file_not_the_current_folder(
    tmp_path, monkeypatch
):
    path = settings_file(tmp_path / "etc", 'instance_dir = "state"')
    monkeypatch.chdir(tmp_path)
    settings = config.load(environ={"REVERSE_OTP_CONFIG": "etc/config.toml"})
    assert settings.server.instance_dir == str(tmp_path / "etc" / "state")
    assert (tmp_path / "etc" / "state" / "secret_key").is_file()
    assert not (tmp_path / "state").exists() and not (tmp_path / "instance").exists()
    assert config.instance_line(settings, {"REVERSE_OTP_CONFIG": "etc/config.toml"}) == (
        f"instance folder: {tmp_path / 'etc' / 'state'} ([server] instance_dir in {path})"
    )


def test_with_no_instance_dir_the_folder_is_beside_the_settings_file(tmp_path, monkeypatch):
    path = settings_file(tmp_path / "etc")
    monkeypatch.chdir(tmp_path)
    env = {"REVERSE_OTP_CONFIG": str(path)}
    settings = config.load(environ=env)
    assert settings.server.instance_dir == str(tmp_path / "etc" / "instance")
    assert settings.database.url == f"sqlite:///{tmp_path / 'etc' / 'instance'}/reverse-otp.db"
    assert config.instance_line(settings, env).endswith(f"(beside {path})")


def test_an_absolute_instance_dir_is_kept(tmp_path):
    path = settings_file(tmp_path / "etc", f'instance_dir = "{tmp_path / "var"}"')
    settings = config.load(environ={"REVERSE_OTP_CONFIG": str(path)})
    assert settings.server.instance_dir == str(tmp_path / "var")


def test_with_no_settings_file_the_folder_is_in_the_checkout_whatever_the_current_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    found = places.locate({})
    assert found.config_file is None
    assert found.instance(places.DEFAULT_INSTANCE) == ROOT / "instance"
    assert "in the project checkout" in found.base_is


def test_an_installed_package_with_no_settings_file_uses_the_users_data_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(places, "SOURCE_ROOT", tmp_path / "site-packages")  # no checkout
    found = places.locate({"XDG_DATA_HOME": str(tmp_path / "data")})
    assert found.instance("instance") == tmp_path / "data" / "reverse-otp" / "instance"
    assert "user data folder" in found.base_is
    home = places.data_home({"XDG_DATA_HOME": "relative/ignored"})
    assert home == Path.home() / ".local" / "share" / "reverse-otp"  # the spec's rule


@pytest.mark.parametrize("name", ["INSTANCE_DIR", "INSTANCE_PATH"])
def test_the_environment_overrides_the_file_and_is_named(tmp_path, name):
    path = settings_file(tmp_path / "etc", 'instance_dir = "state"')
    variable = f"REVERSE_OTP_SERVER__{name}"
    env = {"REVERSE_OTP_CONFIG": str(path), variable: str(tmp_path / "elsewhere")}
    settings = config.load(environ=env)
    assert settings.server.instance_dir == str(tmp_path / "elsewhere")
    assert config.instance_line(settings, env).endswith(f"(set by {variable})")


def test_the_former_key_instance_path_is_still_read(tmp_path):
    path = settings_file(tmp_path / "etc", 'instance_path = "old"')
    settings = config.load(environ={"REVERSE_OTP_CONFIG": str(path)})
    assert settings.server.instance_dir == str(tmp_path / "etc" / "old")


def test_a_command_run_elsewhere_with_config_uses_the_folder_beside_the_file(tmp_path):
    path = settings_file(tmp_path / "project", 'instance_dir = "state"')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli(elsewhere, "--config", str(path), "providers")
    assert done.returncode == 0, done.stderr
    state = tmp_path / "project" / "state"
    assert instance_lines(done) == [f"instance folder: {state} ([server] instance_dir in {path})"]
    assert (state / "secret_key").is_file()
    assert list(elsewhere.iterdir()) == []
    relative = cli(tmp_path, "providers", env={"REVERSE_OTP_CONFIG": "project/config.toml"})
    assert instance_lines(relative) == instance_lines(done)


@pytest.mark.parametrize(
    "args",
    [
        ("create-api-key",),
        ("apps", "list"),
        ("providers",),
        ("db", "upgrade"),
        ("purge",),
        ("simulate-sms", "--from", "+33612345678", "--text", "x", "--url", "http://127.0.0.1:9"),
    ],
)
def test_every_command_says_once_which_instance_folder_it_uses(tmp_path, args):
    instance = tmp_path / "dev"
    done = cli(tmp_path, *args, env={"REVERSE_OTP_SERVER__INSTANCE_DIR": str(instance)})
    assert instance_lines(done) == [
        f"instance folder: {instance} (set by REVERSE_OTP_SERVER__INSTANCE_DIR)"
    ], done.stderr
    assert "instance folder" not in done.stdout  # stdout stays the command's answer


def test_create_api_key_prints_the_key_alone_on_stdout(tmp_path):
    env = {"REVERSE_OTP_SERVER__INSTANCE_DIR": str(tmp_path / "dev")}
    done = cli(tmp_path, "create-api-key", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("rotp_")
    assert len(done.stdout.splitlines()) == 1


def test_a_relative_folder_from_the_environment_follows_the_settings_file(tmp_path, monkeypatch):
    path = settings_file(tmp_path / "etc")
    monkeypatch.chdir(tmp_path)
    env = {"REVERSE_OTP_CONFIG": str(path), "REVERSE_OTP_SERVER__INSTANCE_DIR": "dev"}
    assert config.load(environ=env).server.instance_dir == str(tmp_path / "etc" / "dev")
    assert not (tmp_path / "dev").exists()


def test_production_commands_name_the_settings_file_beside_their_folder(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[server]\n"
        'public_url = "https://verify.reverse-otp.test"\n'
        f'secret_key = "{secrets.token_urlsafe(48)}"\n'
        f'instance_dir = "{tmp_path / "var"}"\n'
        "[database]\n"
        f'url = "sqlite:///{tmp_path / "prod.db"}"\n'
        "[[numbers]]\n"
        'number = "+14155550100"\n'
        'provider = "twilio"\n'
        "[providers.twilio]\n"
        f'auth_token = "{secrets.token_hex(16)}"\n'
    )
    done = cli(tmp_path / "..", "--config", str(path), "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert instance_lines(done) == [
        f"instance folder: {tmp_path / 'var'} ([server] instance_dir in {path})"
    ]
    assert not (tmp_path / "var").exists()  # production keeps no files there
