"""Read-model schema migrations: `migrations/NNNN_name.sql`, applied in order, once each.

Each applied file's SHA-256 is recorded; if an applied file is later edited, migrating
stops with an error naming it, because the database no longer matches the code.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ledger.persistence import DatabaseLocation

# The project's top-level migrations/ folder; an installed copy elsewhere is named by
# LEDGER_MIGRATIONS_DIR (the container image does that).
MIGRATIONS_DIR = Path(
    os.environ.get("LEDGER_MIGRATIONS_DIR") or Path(__file__).resolve().parent.parent / "migrations"
)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Arbitrary but fixed: every process that migrates takes this advisory lock first.
_LOCK_KEY = 0x1ED6E7


class MigrationError(RuntimeError):
    """Raised when the migrations on disk and those applied to the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    if not directory.is_dir():
        # Without this, a missing folder would look like "nothing to migrate".
        raise MigrationError(
            f"no migrations folder at {directory}; set LEDGER_MIGRATIONS_DIR to the project's "
            "migrations/ folder"
        )
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name {path.name!r} is not NNNN_name.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return found


def ensure_database(location: DatabaseLocation) -> None:
    """Create the database if the server does not have it yet."""
    with psycopg.connect(location.with_dbname("postgres").conninfo(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (location.dbname,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(location.dbname)))


def migrate(location: DatabaseLocation, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(location.conninfo(), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {
                row[0]: (row[1], row[2])
                for row in conn.execute("SELECT version, name, checksum FROM schema_migrations")
            }
            for migration in migrations:
                if migration.version in applied:
                    name, checksum = applied[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.name} was changed after it was applied "
                            f"(applied as {name}); add a new migration instead of editing it"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
