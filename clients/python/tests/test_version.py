"""The clients are versioned with the server: one version number in all three manifests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import reverse_otp_client

ROOT = Path(__file__).resolve().parents[3]


def pyproject_version(path: Path) -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', path.read_text(), re.MULTILINE)
    assert found, f"no version in {path}"
    return found.group(1)


def test_both_clients_have_the_servers_version() -> None:
    server = pyproject_version(ROOT / "pyproject.toml")
    python = pyproject_version(ROOT / "clients" / "python" / "pyproject.toml")
    js = json.loads((ROOT / "clients" / "js" / "package.json").read_text())["version"]
    assert (python, js, reverse_otp_client.__version__) == (server, server, server)


def test_the_changelog_has_an_entry_for_this_version() -> None:
    version = pyproject_version(ROOT / "pyproject.toml")
    assert f"## {version}" in (ROOT / "CHANGELOG.md").read_text()
