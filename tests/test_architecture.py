"""The dependency rule, checked by reading imports."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
FORBIDDEN_IN_DOMAIN = {"flask", "sqlalchemy", "requests", "redis", "werkzeug", "psycopg", "gevent"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_domain_imports_no_framework_database_http_or_cache():
    offenders = {
        f"{path.name}: {module}"
        for path in (APP / "domain").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN_IN_DOMAIN
    }
    assert not offenders


def test_domain_imports_only_the_standard_library_phonenumbers_and_itself():
    import sys

    allowed = set(sys.stdlib_module_names) | {"phonenumbers", "app"}
    for path in (APP / "domain").rglob("*.py"):
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top in allowed, f"{path.name} imports {module}"
            if top == "app":
                assert module.startswith("app.domain"), f"{path.name} imports {module}"


def test_services_know_no_web_framework_or_database():
    modules = set().union(*map(imported_modules, (APP / "usecases").glob("*.py")))
    assert not {m for m in modules if m.split(".")[0] in {"flask", "sqlalchemy", "redis"}}
    assert "app.store.sql" not in modules
