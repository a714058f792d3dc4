"""Migrations: in order, once, under a lock; an edited applied migration is refused."""

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ledger.persistence import DatabaseLocation
from projections.migrations import MigrationError, ensure_database, migrate


@pytest.fixture
def empty_db(location: DatabaseLocation) -> Iterator[DatabaseLocation]:
    db = location.with_dbname(f"ledger_mig_{uuid.uuid4().hex[:8]}")
    ensure_database(db)
    yield db
    with psycopg.connect(location.with_dbname("postgres").conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db.dbname)))


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


def test_migrations_apply_in_order_and_only_once(
    empty_db: DatabaseLocation, tmp_path: Path
) -> None:
    write(tmp_path, "0002_b.sql", "INSERT INTO t VALUES (2);")
    write(tmp_path, "0001_a.sql", "CREATE TABLE t (n int);")
    assert migrate(empty_db, tmp_path) == ["0001_a.sql", "0002_b.sql"]
    assert migrate(empty_db, tmp_path) == []
    with psycopg.connect(empty_db.conninfo()) as conn:
        assert conn.execute("SELECT n FROM t").fetchall() == [(2,)]


def test_an_edited_applied_migration_is_refused(empty_db: DatabaseLocation, tmp_path: Path) -> None:
    write(tmp_path, "0001_a.sql", "CREATE TABLE t (n int);")
    migrate(empty_db, tmp_path)
    write(tmp_path, "0001_a.sql", "CREATE TABLE t (n bigint);")
    with pytest.raises(MigrationError, match=r"0001_a\.sql was changed"):
        migrate(empty_db, tmp_path)


def test_a_failing_migration_leaves_nothing_half_applied(
    empty_db: DatabaseLocation, tmp_path: Path
) -> None:
    write(tmp_path, "0001_a.sql", "CREATE TABLE t (n int); SELECT no_such_function();")
    with pytest.raises(psycopg.Error):
        migrate(empty_db, tmp_path)
    with psycopg.connect(empty_db.conninfo()) as conn:
        assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (0,)


def test_concurrent_migrators_apply_each_file_once(
    empty_db: DatabaseLocation, tmp_path: Path
) -> None:
    write(tmp_path, "0001_a.sql", "CREATE TABLE t (n int); SELECT pg_sleep(0.2);")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: migrate(empty_db, tmp_path), range(4)))
    assert sorted(map(len, results)) == [0, 0, 0, 1]


def test_a_badly_named_file_is_refused(empty_db: DatabaseLocation, tmp_path: Path) -> None:
    write(tmp_path, "1_a.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        migrate(empty_db, tmp_path)
