"""docs/errors.md lists every error code the code can emit, and nothing else.

The emitted codes are read from the source of app/: the code argument of `error(...)`, of
the use-case errors (`ServiceError`, `NotFound`, ...), of `InvalidPhone` and of the limits'
`Refusal`, and JSON literals; then the few codes computed at run time, each from its source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from werkzeug.exceptions import default_exceptions

from app.domain import pumping
from app.web import errors, throttle
from app.web.errorcodes import CATALOGUE, render

ROOT = Path(__file__).resolve().parent.parent
CODE_FIRST = {
    "ServiceError", "NotFound", "Conflict", "Unavailable", "Forbidden", "TooSoon",
    "InvalidPhone", "Refusal", "ProviderFailed",
}  # fmt: skip
# The routing answers werkzeug gives every app: unknown path, method, body over the cap.
ROUTING = {404, 405, 413}
# Codes the scan finds that never reach a client as an error: the sender cool-off is an
# inbound SMS outcome (`sender_blocked`), not an answer to a request.
NOT_ERRORS = {"sender_blocked"}


def literal_codes() -> tuple[set[str], list[str]]:
    """Return the literal codes of app/ and where a code is computed instead."""
    found: set[str] = set()
    computed: list[str] = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        text = path.read_text()
        found |= set(re.findall(r'"code": "([a-z_]+)"', text))
        for node in ast.walk(ast.parse(text)):
            arg = _code_argument(node)
            if arg is None:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            else:
                computed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found, computed


def _code_argument(node: ast.AST) -> ast.expr | None:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    if node.func.id == "error" and len(node.args) >= 2:
        return node.args[1]
    if node.func.id in CODE_FIRST and node.args:
        return node.args[0]
    return None


def http_statuses() -> set[int]:
    """Statuses of werkzeug's exceptions: abort(N), raised classes, and routing."""
    statuses = set(ROUTING)
    by_name = {cls.__name__: status for status, cls in default_exceptions.items()}
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "werkzeug.exceptions"
            for alias in node.names
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "abort" and isinstance(node.args[0], ast.Constant):
                    statuses.add(node.args[0].value)
                elif node.func.id in imported and node.func.id in by_name:
                    statuses.add(by_name[node.func.id])
    return statuses


def rate_limit_codes() -> set[str]:
    source = (ROOT / "app/limits/rules.py").read_text()
    return set(re.findall(r'"(rate_limited_[a-z_]+)"', source))


# Where a code is computed, and the codes it can take (each read from its source).
COMPUTED = {
    "app/web/errors.py": lambda: (
        {code for _, code, _ in errors.UNAVAILABLE.values()}
        | {default_exceptions[s]().name.lower().replace(" ", "_") for s in http_statuses()}
    ),
    "app/web/throttle.py": lambda: {*throttle.CODES.values(), throttle.FALLBACK_CODE},
    "app/limits/rules.py": rate_limit_codes,
    "app/usecases/challenges.py": lambda: set(),  # InvalidPhone's reasons: literals, above
    # The pumping guards' refusals (at their default caps: cap_<group>_<hour|day>).
    "app/usecases/fallback.py": lambda: pumping.refusal_codes(pumping.GuardRules()),
}


def emitted() -> set[str]:
    found, computed = literal_codes()
    for where in computed:
        module = where.rsplit(":", 1)[0]
        assert module in COMPUTED, f"{where} computes an error code this test cannot read"
        found |= COMPUTED[module]()
    return found - NOT_ERRORS


def test_the_catalogue_is_exactly_the_codes_the_code_emits():
    codes = emitted()
    assert sorted(codes - set(CATALOGUE)) == [], "emitted but not in app/web/errorcodes.py"
    assert sorted(set(CATALOGUE) - codes) == [], "catalogued but emitted nowhere"


def test_a_new_literal_code_would_be_found(tmp_path):
    tree = ast.parse('raise Conflict("brand_new_code", "x")\nerror(418, "teapot_code", "m")')
    args = [_code_argument(n) for n in ast.walk(tree)]
    assert {a.value for a in args if isinstance(a, ast.Constant)} == {
        "brand_new_code",
        "teapot_code",
    }


def test_rate_limit_codes_are_the_ones_refusals_carry():
    assert rate_limit_codes() == {
        "rate_limited_api_key", "rate_limited_ip", "rate_limited_phone", "rate_limited_beacon",
    }  # fmt: skip


def test_docs_errors_md_is_the_catalogue_rendered():
    on_disk = (ROOT / "docs/errors.md").read_text()
    assert on_disk == render(), "run: python -m app.web.errorcodes > docs/errors.md"
