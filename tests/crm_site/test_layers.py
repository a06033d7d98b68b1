"""The apps stand in layers (pyproject.toml, [tool.importlinter]; docs/architecture.md): import-linter keeps the
contracts, no app reaches another through an import hidden inside a function, and no app holds more than a third
of the code."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "scheduling",
    "organisation",
    "customers",
    "notifications",
    "relationships",
    "complaints",
    "reminders",
    "dashboards",
    "demo",
]


def production_files():
    for package in [*APPS, "crm_site"]:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_import_linter_keeps_every_contract():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - the project's own tool on its own code
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_app_is_imported_from_inside_a_function():
    """An import written inside a function to dodge an import loop hides a dependency from the linter. Imports of
    the same app (``from . import receivers`` in ``AppConfig.ready``) are fine."""
    hidden = []
    for path in production_files():
        tree = ast.parse(path.read_text())
        own = path.relative_to(ROOT).parts[0]
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    top = node.module.split(".")[0]
                elif isinstance(node, ast.Import):
                    top = node.names[0].name.split(".")[0]
                else:
                    continue
                if top in [*APPS, "crm_site"] and top != own:
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} {top}")
    assert hidden == []


def test_no_app_holds_more_than_a_third_of_the_code():
    lines = {
        app: sum(len(p.read_text().splitlines()) for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)
        for app in [*APPS, "crm_site"]
    }
    total = sum(lines.values())
    assert all(n <= total / 3 for n in lines.values()), lines
