from click.testing import CliRunner

from app.cli import main
from app.providers import REGISTRY
from tests.conftest import base_settings
from tests.e2e.server import write_config
from tests.providers.samples import settings_for


def test_providers_command_lists_every_adapter_marking_the_enabled(tmp_path, monkeypatch):
    raw = base_settings(tmp_path, **settings_for("telnyx", "infobip"))
    raw["providers"]["twilio"] = raw["providers"]["twilio"] | {"enabled": False}
    monkeypatch.setenv("REVERSE_OTP_CONFIG", str(write_config(tmp_path / "c.toml", raw)))
    result = CliRunner().invoke(main, ["providers"])
    assert result.exit_code == 0, result.output
    lines = dict(
        (line.split()[0], line.endswith("(enabled)")) for line in result.stdout.splitlines()
    )
    assert set(lines) == set(REGISTRY)
    assert {n for n, on in lines.items() if on} == {"telnyx", "infobip", "simulator"}


def test_config_example_has_a_block_for_every_provider():
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "config.example.toml").read_text()
    blocks = set(re.findall(r"^#? ?\[providers\.([a-z0-9-]+)\]", text, re.M))
    assert blocks == set(REGISTRY)


def test_docs_have_a_section_for_every_provider():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "providers.md").read_text()
    missing = [name for name in REGISTRY if f"`{name}`" not in text]
    assert missing == []
