"""Commands run from another directory use the instance folder of the server they administer.

A copy of the source tree stands for the operator's checkout: the server starts from it, and
the real `reverse-otp` commands run from an unrelated folder, importing the same code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.server import free_port, running_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).with_name("reverse-otp")


def make_checkout(folder: Path) -> Path:
    """Copy the source tree (the code itself; templates and static files linked)."""
    folder.mkdir()
    shutil.copytree(ROOT / "app", folder / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("wsgi.py", "pyproject.toml", "gunicorn.conf.py"):
        shutil.copy(ROOT / name, folder / name)
    for name in ("templates", "static"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def from_checkout(checkout: Path) -> dict[str, str]:
    """The environment of a command using the checkout's code, with no REVERSE_OTP_ setting."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    return environ | {"PYTHONPATH": str(checkout)}


def cli(cwd: Path, checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *args],
        cwd=cwd,
        env=from_checkout(checkout),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_challenge(base: str, key: str) -> requests.Response:
    return requests.post(
        base + "/api/v1/challenges",
        json={"phone": "+33612345678"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_commands_from_another_folder_reach_the_development_server_of_the_checkout(tmp_path):
    checkout = make_checkout(tmp_path / "checkout")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    instance = checkout / "instance"
    port = free_port()
    with running_server(
        checkout, port=port, workers=1, env=from_checkout(checkout), own_instance=False
    ) as base:
        made = cli(elsewhere, checkout, "create-api-key", "--name", "elsewhere")
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        created = create_challenge(base, key)
        assert created.status_code == 201, created.text  # the server knows the key

        sent = cli(elsewhere, checkout, "simulate-sms", "--from", "+33612345678", "--text",
                   created.json()["body"])  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert sent.stdout.startswith("200 "), sent.stdout  # found the server, signature accepted
        status = requests.get(created.json()["status_url"], timeout=10).json()
        assert status["status"] == "verified"

    for done in (made, sent):
        assert f"instance folder: {instance} (no settings file; in the project checkout" in (
            done.stderr
        )
    assert list(elsewhere.iterdir()) == []  # no new ./instance/ where the commands ran
    log = next(checkout.glob("server-*.log")).read_text()
    assert f"instance folder: {instance} " in log  # the server says which one it uses


def test_create_api_key_with_the_checkouts_settings_file_makes_a_key_its_server_accepts(
    tmp_path,
):
    checkout = make_checkout(tmp_path / "checkout")
    settings = checkout / "config.toml"  # found in the current folder by the server
    settings.write_text('[server]\nmode = "development"\ninstance_dir = "state"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_server(
        checkout, workers=1, env=from_checkout(checkout), own_instance=False
    ) as base:
        made = cli(elsewhere, checkout, "--config", str(settings), "create-api-key")
        assert made.returncode == 0, made.stderr
        assert create_challenge(base, made.stdout.strip()).status_code == 201
    assert f"instance folder: {checkout / 'state'} ([server] instance_dir in {settings})" in (
        made.stderr
    )
    assert list(elsewhere.iterdir()) == []
    assert not (checkout / "instance").exists()
