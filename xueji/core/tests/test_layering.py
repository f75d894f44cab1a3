"""Apps depend downward (ARCHITECTURE.md): an app imports only the apps below it, so there is no
cycle. Read from the source with `ast`, every module of every app, imports inside functions
included; `tests/` folders are exempt (a test may set up data of any app).

Imports under `if TYPE_CHECKING:` are exempt too: they name a type for an annotation, run
nothing and cannot make an import cycle (core's `Actor` names the user model that way).
Templates count as well: an app's templates may include or extend only templates of the apps
it may import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]

_BASE = {"core"}
_RECORD = {"core", "audit", "org", "accounts"}
_STUDENTS = _RECORD | {"students"}
# What each app may import, bottom to top:
# core < audit < org < accounts < students < jobs < notifications < workflow < exchange
# < registration < changes < certificates < dashboard. jobs (long work with progress) stands on
# students only for the page base view. notifications needs only accounts; exchange and
# registration stand on students and notifications, not on the approval engine; registration
# plugs its finance import into exchange's import registry. certificates stands on changes
# (eligibility reads the status and the term's registration).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "audit": _BASE,
    "org": {"core", "audit"},
    "accounts": {"core", "audit", "org"},
    "students": _RECORD,
    "jobs": _STUDENTS,
    "notifications": {"core", "accounts"},
    "workflow": _STUDENTS | {"notifications"},
    "exchange": _STUDENTS | {"jobs", "notifications"},
    "registration": _STUDENTS | {"jobs", "notifications", "exchange"},
    "changes": _STUDENTS | {"jobs", "notifications", "workflow", "exchange", "registration"},
    "certificates": _STUDENTS
    | {"jobs", "notifications", "workflow", "exchange", "registration", "changes"},
    "dashboard": _STUDENTS
    | {"jobs", "notifications", "workflow", "exchange", "registration", "changes", "certificates"},
}
TEMPLATE_REFERENCE = re.compile(r"""{%\s*(?:include|extends)\s+["']([\w-]+)/""")


def app_directories() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those in the body of an `if TYPE_CHECKING:` block."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every module `source` imports at run time; `module` is the
    importing module's dotted name, to resolve relative imports."""
    names: list[tuple[int, str]] = []
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level]
                base = ".".join([*package, *([base] if base else [])])
            # `from xueji import students` imports a module named by the alias.
            names.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return names


def apps_imported(source: str, module: str) -> dict[str, int]:
    """App name → first line importing it, for the apps of this package `source` imports."""
    apps = app_directories()
    found: dict[str, int] = {}
    for line, name in imported_modules(source, module):
        parts = name.split(".")
        if len(parts) > 1 and parts[0] == PACKAGE.name and parts[1] in apps:
            found.setdefault(parts[1], line)
    return found


def violations(app: str) -> list[str]:
    allowed = ALLOWED[app] | {app}
    root = PACKAGE / app
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "tests" in relative.parts:
            continue
        module = ".".join([PACKAGE.name, app, *relative.with_suffix("").parts])
        if path.name == "__init__.py":
            module += ".__init__"
        for other, line in apps_imported(path.read_text(encoding="utf-8"), module).items():
            if other not in allowed:
                found.append(f"{path.relative_to(PACKAGE)}:{line} imports {other}")
    for path in sorted(root.glob("templates/**/*.html")):
        for match in TEMPLATE_REFERENCE.finditer(path.read_text(encoding="utf-8")):
            other = match.group(1)
            if other in ALLOWED and other not in allowed:
                found.append(f"{path.relative_to(PACKAGE)} uses a template of {other}")
    return found


def test_every_app_has_a_place_in_the_layers() -> None:
    assert app_directories() == set(ALLOWED)


def test_the_layers_allow_only_apps_below() -> None:
    order = list(ALLOWED)
    for app, allowed in ALLOWED.items():
        assert all(order.index(other) < order.index(app) for other in allowed), app


@pytest.mark.parametrize("app", list(ALLOWED))
def test_an_app_imports_only_apps_below_it(app: str) -> None:
    assert violations(app) == []


def test_the_check_sees_imports_in_functions_relative_ones_and_from_the_package() -> None:
    source = """
from xueji.students.models import Student
import xueji.org.models
from xueji import workflow

def later():
    from ..changes import services

if TYPE_CHECKING:
    from xueji.dashboard import panels
else:
    from xueji.exchange import signing
"""
    assert apps_imported(source, "xueji.students.views") == {
        "students": 2,
        "org": 3,
        "workflow": 4,
        "changes": 7,
        "exchange": 12,
    }
