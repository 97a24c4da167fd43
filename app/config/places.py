"""Where the settings file and the instance folder are, whatever the current directory.

The settings file is REVERSE_OTP_CONFIG when set, else ./config.toml when present. The
instance folder ([server] instance_dir, development files: generated secret, SQLite database,
first API key, the served URL) never follows the current directory: a relative path resolves
against the settings file's folder; with no file, against the project checkout the code runs
from; with neither (an installed package run with no settings file), against the user's data
folder ($XDG_DATA_HOME/reverse-otp, else ~/.local/share/reverse-otp).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG_VARIABLE = "REVERSE_OTP_CONFIG"
INSTANCE_VARIABLES = ("REVERSE_OTP_SERVER__INSTANCE_DIR", "REVERSE_OTP_SERVER__INSTANCE_PATH")
DEFAULT_INSTANCE = "instance"

# The source tree's root when the code runs from a checkout (editable installs included): the
# folder holding app/, wsgi.py and pyproject.toml. An installed wheel has no wsgi.py beside app/.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Places:
    """The settings file in use (None: development defaults) and what relative paths follow."""

    config_file: Path | None
    base: Path
    base_is: str

    def instance(self, value: str) -> Path:
        """Return the absolute instance folder for a configured (maybe relative) path."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base / path


def checkout() -> Path | None:
    """Return the project checkout the code runs from, or None for an installed package."""
    markers = ("pyproject.toml", "wsgi.py", "app")
    return SOURCE_ROOT if all((SOURCE_ROOT / m).exists() for m in markers) else None


def data_home(env: dict[str, str]) -> Path:
    """Return the user's data folder for reverse-otp (XDG base directory rules)."""
    xdg = env.get("XDG_DATA_HOME", "")
    root = Path(xdg) if Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return root / "reverse-otp"


def locate(env: dict[str, str]) -> Places:
    """Find the settings file and the folder relative paths resolve against."""
    named = env.get(CONFIG_VARIABLE)
    path = Path(named) if named else Path("config.toml")
    if path.is_file():
        path = path.resolve()
        return Places(path, path.parent, f"beside {path}")
    source = checkout()
    if source is not None:
        return Places(None, source, f"no settings file; in the project checkout {source}")
    return Places(None, data_home(env), "no settings file or source checkout; user data folder")


def describe(instance: str, places: Places, env: dict[str, str]) -> str:
    """Say, in one line, which instance folder is used and why."""
    variable = next((v for v in INSTANCE_VARIABLES if env.get(v)), None)
    if variable:
        why = f"set by {variable}"
    elif Path(instance) != places.instance(DEFAULT_INSTANCE):
        where = f" in {places.config_file}" if places.config_file else ""
        why = f"[server] instance_dir{where}"
    else:
        why = places.base_is
    return f"instance folder: {instance} ({why})"
