"""The tax engine stays pure: no web, database, PDF, read-model, event-store or network code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "ledger" / "tax"
FORBIDDEN_ROOTS = {
    "fastapi", "starlette", "psycopg", "reportlab", "projections", "api", "pdf",
    "eventsourcing", "structlog", "socket", "http", "urllib", "requests", "httpx", "zeep",
    "os", "subprocess", "sqlite3",
}  # fmt: skip
FORBIDDEN_LEDGER = ("ledger.domain", "ledger.application", "ledger.persistence")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_engine_imports_nothing_from_the_layers_above_or_the_network() -> None:
    offenders = {}
    for path in sorted(ENGINE.glob("*.py")):
        modules = imported_modules(path)
        bad = {m for m in modules if m.split(".")[0] in FORBIDDEN_ROOTS}
        bad |= {m for m in modules if m.startswith(FORBIDDEN_LEDGER)}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_the_engine_has_modules_to_check() -> None:
    assert {p.name for p in ENGINE.glob("*.py")} >= {"rules.py", "rate_table.py", "tax_ids.py"}


def test_importing_the_engine_loads_no_web_database_or_pdf_package() -> None:
    code = (
        "import sys, ledger.tax\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(roots & {'fastapi', 'starlette', 'psycopg', 'eventsourcing', 'reportlab',"
        " 'projections', 'api', 'pdf', 'zeep', 'requests', 'httpx'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ENGINE.parents[1],
    )
    assert done.stdout.strip() == "[]"
