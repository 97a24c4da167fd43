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
        (line.split()[0], line.endswith("(enabled)")) for line in result.output.splitlines()
    )
    assert set(lines) == set(REGISTRY)
    assert {n for n, on in lines.items() if on} == {"telnyx", "infobip", "simulator"}
