"""Scripts that must run under gevent's monkey patching, each in a Python of its own.

Patching is process-wide and cannot be undone, so a test that needs greenlets (the SQLite
write lock, group commits) writes its script next to a database file and runs it here.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_gevent_script(tmp_path: Path, source: str, timeout: float = 60) -> str:
    """Run `source` with the path of a database file in tmp_path as its argument; return
    what it printed, after checking that it exited 0 (else fail with its stderr)."""
    script = tmp_path / "gevent_script.py"
    script.write_text(textwrap.dedent(source))
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "db.sqlite")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
