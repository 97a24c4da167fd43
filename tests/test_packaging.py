"""The built wheel carries everything the server reads at run time, and the installed app
finds its templates and static files with no source tree around it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = (".venv", ".git", "build", "dist", "*.egg-info", "instance", "__pycache__", ".*_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel once, from a copy, so the checkout gets no build/ folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*SKIP), symlinks=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return next(work.glob("reverse_otp-*.whl"))


def shipped(folder: str) -> set[str]:
    base = ROOT / folder
    return {p.relative_to(ROOT).as_posix() for p in base.rglob("*") if p.is_file()}


def test_wheel_carries_templates_static_files_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assets = shipped("templates") | shipped("static")
    assert {f"app/{name}" for name in assets} <= names
    migrations = {n for n in shipped("app/migrations") if "__pycache__" not in n}
    assert migrations <= names
    assert "app/migrations/script.py.mako" in names
    assert shipped("app/web/locales") <= names  # the catalogues
    code = {n for n in shipped("app") if n.endswith(".py")}
    assert code <= names  # every subpackage is found


def test_installed_wheel_serves_pages_with_no_source_tree(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-t", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    run = tmp_path / "run"
    run.mkdir()
    script = (
        "import app, sys\n"
        "client = app.create_app().test_client()\n"
        "for path in ('/', '/dev/phone', '/static/page.js'):\n"
        "    print(path, client.get(path).status_code)\n"
        "print(app.__file__)\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    data = tmp_path / "data"  # the user's data folder, where an installed copy keeps its files
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=run,
        env=environ | {"PYTHONPATH": str(target), "XDG_DATA_HOME": str(data)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[:3] == ["/ 200", "/dev/phone 200", "/static/page.js 200"], done.stderr
    assert Path(lines[3]).is_relative_to(target)  # the installed copy, not the checkout
    # No settings file and no checkout: development files go to the user's data folder,
    # never into the current directory.
    assert (data / "reverse-otp" / "instance" / "secret_key").is_file()
    assert list(run.iterdir()) == []
