"""Where the templates and static files are: in the package, or at the checkout's root."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def folder(name: str) -> str:
    """Return the absolute path of `templates` or `static`.

    A built wheel carries them inside the package (setup.py maps them there); a source
    checkout, editable installs included, keeps them beside the package.
    """
    inside = PACKAGE / name
    return str(inside if inside.is_dir() else PACKAGE.parent / name)
