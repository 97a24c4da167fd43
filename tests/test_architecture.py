"""The dependency rule, checked by reading imports.

Every module of app/ sits on a floor; a module imports only from its own floor or below, the
domain imports nothing of app outside itself, and no two modules import each other, directly
or round a loop (imports inside functions count: they are cycles deferred, not avoided).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
FORBIDDEN_IN_DOMAIN = {"flask", "sqlalchemy", "requests", "redis", "werkzeug", "psycopg", "gevent"}

# Floors, lowest first: the pure core, the small shared pieces, the adapters, the use cases,
# the runtime object, what runs them (web, workers), the factory, the command line.
FLOORS = {
    "domain": 0,
    "assets": 1,
    "clock": 1,
    "crypto": 1,
    "config": 1,
    "ops": 1,
    "outbound": 1,
    "store": 2,
    "providers": 2,
    "senders": 2,
    "events": 2,
    "limits": 2,
    "proofs": 2,
    "migrations": 2,
    "usecases": 3,
    "runtime": 4,
    "web": 5,
    "workers": 5,
    "": 6,  # app/__init__.py: the factory
    "cli": 7,
}
# Rooms on one floor that must not lean on each other.
APART = {("web", "workers"), ("workers", "web")}
MAX_TOP_LEVEL_MODULES = 8
MAX_LINES = 350


def modules(root: Path, package: str) -> dict[str, Path]:
    """Return every module under a package folder by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, known: dict[str, Path], package: str) -> set[str]:
    """Return the package's modules a file imports, at any depth (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from app.x import y`: y is a module when one has that name, else a name in app.x
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in known
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found |= {n for n in names if n == package or n.startswith(package + ".")}
    return found


def graph(root: Path, package: str) -> dict[str, set[str]]:
    known = modules(root, package)
    return {name: imports(path, known, package) - {name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the import cycles: strongly connected groups of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def room(module: str, package: str) -> str:
    """Return the top-level room of a module: `usecases` for app.usecases.inbound."""
    rest = module[len(package) + 1 :] if module != package else ""
    return rest.split(".")[0]


def upward(edges: dict[str, set[str]], package: str, floors: dict[str, int]) -> list[str]:
    """Return every import from a lower floor to a higher one, or between rooms kept apart."""
    bad = []
    for module, targets in sorted(edges.items()):
        mine = room(module, package)
        for target in sorted(targets):
            theirs = room(target, package)
            if mine == theirs:
                continue
            if mine == "domain" or floors[theirs] > floors[mine] or (mine, theirs) in APART:
                bad.append(f"{module} -> {target}")
    return bad


# --- the rules, over app/ --------------------------------------------------------------------


def test_every_room_of_app_has_a_floor():
    rooms = {room(m, "app") for m in modules(APP, "app")}
    assert rooms <= set(FLOORS), f"give these a floor in FLOORS: {sorted(rooms - set(FLOORS))}"


def test_no_module_imports_from_a_higher_floor():
    assert upward(graph(APP, "app"), "app", FLOORS) == []


def test_no_import_cycle_between_modules():
    assert cycles(graph(APP, "app")) == []


def test_app_top_level_holds_few_modules_and_no_services_module():
    top = sorted(p.name for p in APP.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    assert "services.py" not in top


def test_no_file_in_app_is_over_350_lines():
    long = {
        str(p.relative_to(APP)): n
        for p in APP.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_domain_imports_no_framework_database_http_or_cache():
    offenders = {
        f"{path.name}: {module}"
        for path in (APP / "domain").rglob("*.py")
        for module in imported_names(path)
        if module.split(".")[0] in FORBIDDEN_IN_DOMAIN
    }
    assert not offenders


def test_domain_imports_only_the_standard_library_phonenumbers_and_itself():
    allowed = set(sys.stdlib_module_names) | {"phonenumbers", "app"}
    for path in (APP / "domain").rglob("*.py"):
        for module in imported_names(path):
            top = module.split(".")[0]
            assert top in allowed, f"{path.name} imports {module}"
            if top == "app":
                assert module.startswith("app.domain"), f"{path.name} imports {module}"


def test_use_cases_know_no_web_framework_or_database():
    found = set().union(*map(imported_names, (APP / "usecases").glob("*.py")))
    assert not {m for m in found if m.split(".")[0] in {"flask", "sqlalchemy", "redis"}}
    assert not {m for m in found if m.startswith(("app.store.sql", "app.web", "app.cli"))}


def imported_names(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


# --- the checker itself, on a small made-up package ------------------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A package `shop` whose rooms respect the floors: domain < store < usecases < web."""
    files = {
        "__init__.py": "",
        "domain/__init__.py": "",
        "domain/rules.py": "import math\n",
        "store/__init__.py": "",
        "store/sql.py": "from shop.domain import rules\n",
        "usecases/__init__.py": "",
        "usecases/orders.py": "from shop.domain.rules import x\nfrom shop.store import sql\n",
        "web/__init__.py": "",
        "web/api.py": "from shop.usecases import orders\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


SHOP_FLOORS = {"": 9, "domain": 0, "store": 2, "usecases": 3, "web": 5}


def test_checker_passes_a_package_that_keeps_the_rules(shop):
    edges = graph(shop, "shop")
    assert edges["shop.web.api"] == {"shop.usecases.orders"}
    assert upward(edges, "shop", SHOP_FLOORS) == []
    assert cycles(edges) == []


def test_checker_finds_an_import_from_a_higher_floor(shop):
    (shop / "store" / "sql.py").write_text("def f():\n    from shop.usecases import orders\n")
    assert upward(graph(shop, "shop"), "shop", SHOP_FLOORS) == [
        "shop.store.sql -> shop.usecases.orders"
    ]


def test_checker_finds_a_domain_module_importing_outside_the_domain(shop):
    (shop / "domain" / "rules.py").write_text("from shop.store.sql import x\n")
    assert upward(graph(shop, "shop"), "shop", SHOP_FLOORS) == [
        "shop.domain.rules -> shop.store.sql"
    ]


def test_checker_finds_a_cycle_made_by_an_import_inside_a_function(shop):
    (shop / "usecases" / "carts.py").write_text(
        "def f():\n    from shop.usecases.orders import g\n"
    )
    with (shop / "usecases" / "orders.py").open("a") as f:
        f.write("from shop.usecases import carts\n")
    assert cycles(graph(shop, "shop")) == [["shop.usecases.carts", "shop.usecases.orders"]]


def test_checker_finds_a_cycle_round_three_modules(shop):
    (shop / "store" / "a.py").write_text("from shop.store import b\n")
    (shop / "store" / "b.py").write_text("import shop.store.c\n")
    (shop / "store" / "c.py").write_text("from shop.store.a import thing\n")
    assert cycles(graph(shop, "shop")) == [["shop.store.a", "shop.store.b", "shop.store.c"]]
