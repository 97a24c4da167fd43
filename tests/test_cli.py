"""The command line, run in-process."""

from __future__ import annotations

from click.testing import CliRunner

from app.cli import main


def run(tmp_path, monkeypatch, *args):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("REVERSE_OTP_")]:
        monkeypatch.delenv(name)
    # With no settings file the instance folder is the checkout's: each test keeps its own.
    monkeypatch.setenv("REVERSE_OTP_SERVER__INSTANCE_DIR", str(tmp_path / "instance"))
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_init_db_creates_the_tables(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, "init-db")
    assert result.exit_code == 0
    assert "database ready" in result.output
    assert (tmp_path / "instance" / "reverse-otp.db").exists()


def test_create_api_key_prints_a_new_key_each_time(tmp_path, monkeypatch):
    first = run(tmp_path, monkeypatch, "create-api-key").stdout.strip().splitlines()[-1]
    second = run(tmp_path, monkeypatch, "create-api-key").stdout.strip().splitlines()[-1]
    assert first.startswith("rotp_")
    assert first != second


def test_providers_lists_the_registry_marking_enabled_ones(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, "providers")
    assert "simulator  (enabled)" in result.output
    assert "twilio" in result.output


def test_simulate_sms_says_clearly_when_no_server_listens(tmp_path, monkeypatch):
    result = run(
        tmp_path,
        monkeypatch,
        "simulate-sms",
        "--from",
        "+33612345678",
        "--text",
        "hi",
        "--url",
        "http://127.0.0.1:9",
    )
    assert result.exit_code != 0
    assert "cannot reach" in result.output
