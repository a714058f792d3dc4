"""A view's statements of one transaction run as few multi-row INSERTs, with the same result.

Projections write a row at a time, and a rebuild writes millions: per statement, the client
and the server cost more than the row. An `INSERT INTO t (columns) VALUES (placeholders)
ON CONFLICT ...` writes only its own row of `t`, so

- such inserts into different tables commute: each table's rows keep their order, the
  tables' statements may interleave any way (the read models have no triggers or foreign
  keys);
- inserts of one statement with different conflict keys touch different rows and commute
  too: the k-th row of every key goes in the k-th multi-row INSERT, so each key's rows keep
  their order (and DO UPDATE never meets its own row twice in one statement);
- when DO UPDATE only overwrites columns with the new row's (`SET c = EXCLUDED.c`) or adds
  the new row's to them (`SET c = t.c + EXCLUDED.c`), a key's rows come to one: the
  columns it overwrites from the last, those it adds up the sum of all (when every value
  is a finite int or Decimal: the sum is then exact, as the server's), the others from the
  first (which inserts them if the row is new; later rows never change them);
- DO NOTHING without a conflict target keeps the first row of a key in a multi-row INSERT
  as it does one by one, and a plain INSERT fails in one as it fails one by one.

Where a caller can copy (`run`'s `copy`), the rows of a multi-row INSERT that only adds
rows (DO NOTHING, or no ON CONFLICT) go by COPY instead, when there are at least
`COPY_FROM` of them and no two with the same conflict key: that is the same rows at a
fraction of the cost on both sides (a rebuild's rows are mostly such). COPY has no ON
CONFLICT: where a row meets one, it fails with the unique violation, and the caller runs
the whole transaction again without copying (`View.record`).

Consecutive deletes by one key column of one table (`DELETE FROM t WHERE c = %s`, as a
discarded draft leaves the invoice list) run as one `c = ANY(keys)`. Any other statement
(an UPDATE, an INSERT with a subquery or an expression) runs where it stands, after
everything queued before it.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

_INSERT = re.compile(
    r"(?P<head>\s*INSERT\s+INTO\s+(?P<table>[\w\".]+)(?:\s+AS\s+(?P<alias>\w+))?\s*\((?P<columns>[^()]*)\))"
    r"\s*VALUES\s*\((?P<values>(?:[^()]|\(\w+\))*)\)"
    r"(?P<tail>(?:\s*ON\s+CONFLICT\s*(?:\((?P<target>[^()]*)\))?\s*DO\s+(?:NOTHING|UPDATE\s+SET\s+.*))?\s*)",
    re.IGNORECASE | re.DOTALL,
)
_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(?=[\w\".]+)", re.IGNORECASE)
_ALIAS = re.compile(r"\s+AS\s+\w+\s*(?=\()", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?s")
_MAX_ROWS = 5000


@cache
def _pick(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    return itemgetter(*names)  # in C: a rebuild picks millions of rows out of dicts


COPY_FROM = 200


@dataclass(frozen=True)
class Insert:
    """A single-row upsert, understood: where it goes and how to make a multi-row one."""

    table: str
    head: str  # INSERT INTO table (columns)
    tail: str  # from ON CONFLICT
    names: tuple[str, ...] | None  # the placeholders' names, None for positional ones
    columns: tuple[str, ...]
    key: tuple[int, ...] | None  # positions (in VALUES) of the conflict target's columns
    # DO UPDATE SET c = EXCLUDED.c or c = t.c + EXCLUDED.c, ... only: the columns it
    # overwrites, by position; None for anything else (an expression, a WHERE, DO NOTHING).
    overwrites: frozenset[int] | None = None
    adds: frozenset[int] = frozenset()  # and the columns it adds to, by position

    def row(self, params: Any) -> tuple[Any, ...]:
        if self.names is None:
            return tuple(params)
        if len(self.names) == 1:
            return (params[self.names[0]],)
        return _pick(self.names)(params)

    @property
    def appends(self) -> bool:
        """Whether it only ever adds its row (DO NOTHING, or no ON CONFLICT)."""
        return "UPDATE" not in self.tail.upper()

    @property
    def copy_statement(self) -> str:
        """COPY into the same table and columns, named as the insert names them."""
        return _ALIAS.sub(" ", _INTO.sub("COPY ", self.head, count=1), count=1) + " FROM STDIN"

    @property
    def statement_of_one(self) -> str:
        return f"{self.head} VALUES ({', '.join(['%s'] * len(self.columns))}){self.tail}"

    def statement(self, types: dict[str, str]) -> str:
        """The multi-row form: one array per column, so that the text stays the same
        whatever the number of rows (psycopg parses a query's placeholders anew whenever
        its text is new). Each array is cast to its column's type without modifier: the
        insert then coerces each value as a single-row insert would."""
        arrays = ", ".join(f"%b::{types[column]}[]" for column in self.columns)
        # Only the statement's own text and the catalogue's type names go in, no value.
        return f"{self.head} SELECT * FROM unnest({arrays}){self.tail}"  # noqa: S608


def parse(query: str) -> Insert | None:
    """The upsert `query` is, or None for a statement that must run as it is."""
    match = _INSERT.fullmatch(query)
    if match is None or "%" in match["tail"] or "select" in match["tail"].lower():
        return None
    columns = [c.strip().strip('"') for c in match["columns"].split(",")]
    values = [v.strip() for v in match["values"].split(",")]
    placeholders = [_PLACEHOLDER.fullmatch(v) for v in values]
    if len(values) != len(columns) or not all(placeholders):
        return None
    names = tuple(p["name"] for p in placeholders if p is not None)
    if any(names) and not all(names):
        return None
    key = None
    if match["target"] is not None:
        target = [c.strip().strip('"') for c in match["target"].split(",")]
        if not set(target) <= set(columns):
            return None
        key = tuple(columns.index(c) for c in target)
    elif "UPDATE" in match["tail"].upper():
        return None
    table = match["table"].strip('"')
    overwrites, adds = _assignments(match["tail"], columns, {table, match["alias"] or table})
    return Insert(
        table,
        match["head"],
        match["tail"],
        names if all(names) else None,
        tuple(columns),
        key,
        overwrites,
        adds,
    )


_SET = re.compile(r"\s*ON\s+CONFLICT\s*\([^()]*\)\s*DO\s+UPDATE\s+SET\s+(?P<set>.*)", re.I | re.S)
_OVERWRITE = re.compile(r'\s*"?(\w+)"?\s*=\s*EXCLUDED\."?(\w+)"?\s*', re.I)
_ADD = re.compile(r'\s*"?(\w+)"?\s*=\s*"?(\w+)"?\."?(\w+)"?\s*\+\s*EXCLUDED\."?(\w+)"?\s*', re.I)


def _assignments(
    tail: str, columns: list[str], table_names: set[str]
) -> tuple[frozenset[int] | None, frozenset[int]]:
    """The columns a DO UPDATE only overwrites and those it only adds to, by position; None
    and nothing when it does anything else."""
    match = _SET.fullmatch(tail)
    if match is None:
        return None, frozenset()
    overwrites: set[int] = set()
    adds: set[int] = set()
    for part in match["set"].split(","):
        if (o := _OVERWRITE.fullmatch(part)) and o[1] == o[2] and o[1] in columns:
            overwrites.add(columns.index(o[1]))
        elif (
            (a := _ADD.fullmatch(part))
            and a[1] == a[3] == a[4]
            and a[2] in table_names
            and a[1] in columns
        ):
            adds.add(columns.index(a[1]))
        else:
            return None, frozenset()
    return frozenset(overwrites), frozenset(adds)


_DELETE = re.compile(r"\s*DELETE\s+FROM\s+([\w\".]+)\s+WHERE\s+(\w+)\s*=\s*%s\s*", re.I)


Copy = Callable[["Insert", list[tuple[Any, ...]]], object]


def run(
    statements: Sequence[tuple[str, Any]],
    parsed: Callable[[str], Insert | None],
    types: Callable[[str], dict[str, str]],
    execute: Callable[[str, Any], object],
    copy: Copy | None = None,
) -> None:
    """Run the statements (query text, parameters) through `execute`, upserts batched, and
    consecutive single-key deletes of one table (`DELETE FROM t WHERE c = %s`) as one;
    `types` gives a table's column types. With `copy`, many rows that only add go through
    it (see above)."""
    queued: dict[str, list[tuple[Insert, tuple[Any, ...]]]] = {}
    deleting: tuple[str, list[Any]] | None = None  # a delete's text and the keys so far
    for query, params in statements:
        if deleting is not None and query == deleting[0]:
            deleting[1].append(params[0])
            continue
        if deleting is not None:
            _delete(*deleting, execute)
            deleting = None
        insert = parsed(query)
        if insert is not None:
            queued.setdefault(insert.table, []).append((insert, insert.row(params)))
            continue
        _flush(queued, types, execute, copy)
        if _DELETE.fullmatch(query) and len(params) == 1:
            deleting = (query, [params[0]])
        else:
            execute(query, params)
    if deleting is not None:
        _delete(*deleting, execute)
    _flush(queued, types, execute, copy)


def _delete(query: str, keys: list[Any], execute: Callable[[str, Any], object]) -> None:
    match = _DELETE.fullmatch(query)
    assert match is not None
    if len(keys) == 1 or None in keys or not _one_type(keys):
        for key in keys:
            execute(query, (key,))
        return
    # Only the statement's own table and column names go in, no value.
    execute(f"DELETE FROM {match[1]} WHERE {match[2]} = ANY(%s)", (keys,))  # noqa: S608


def _flush(
    queued: dict[str, list[tuple[Insert, tuple[Any, ...]]]],
    types: Callable[[str], dict[str, str]],
    execute: Callable[[str, Any], object],
    copy: Copy | None,
) -> None:
    for rows in queued.values():
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end][0] != rows[start][0]:
                insert, batch = rows[start][0], [row for _, row in rows[start:end]]
                if copy is not None and _copyable(insert, batch):
                    copy(insert, batch)
                else:
                    _insert(insert, batch, types, execute)
                start = end
    queued.clear()


def _insert(
    insert: Insert,
    rows: list[tuple[Any, ...]],
    types: Callable[[str], dict[str, str]],
    execute: Callable[[str, Any], object],
) -> None:
    if len(rows) == 1:
        execute(insert.statement_of_one, rows[0])
        return
    rounds: list[list[tuple[Any, ...]]] = []
    if insert.key is None:
        rounds.append(rows)
    elif insert.overwrites is not None and (
        merged := _merged(rows, insert.key, insert.overwrites, insert.adds)
    ):
        rounds.append(merged)
    else:
        seen: dict[tuple[Any, ...], int] = {}
        for row in rows:
            key = tuple(row[i] for i in insert.key)
            n = seen.get(key, 0)
            seen[key] = n + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(row)
    for batch in rounds:
        for at in range(0, len(batch), _MAX_ROWS):
            chunk = batch[at : at + _MAX_ROWS]
            columns = [list(values) for values in zip(*chunk, strict=True)]
            if all(_one_type(values) for values in columns):
                execute(insert.statement(types(insert.table)), columns)
            else:  # an array holds one type: these go one by one
                for row in chunk:
                    execute(insert.statement_of_one, row)


def _copyable(insert: Insert, rows: list[tuple[Any, ...]]) -> bool:
    if not insert.appends or len(rows) < COPY_FROM:
        return False
    if insert.key is None:
        return True
    key = insert.key
    return len({tuple(row[i] for i in key) for row in rows}) == len(rows)


def _merged(
    rows: list[tuple[Any, ...]],
    key: tuple[int, ...],
    overwrites: frozenset[int],
    adds: frozenset[int],
) -> list[tuple[Any, ...]] | None:
    """One row per key with the same effect as all of them in order, when each only
    overwrites or adds to columns: the first row's values where it inserts, the last's
    where they overwrite, the sum where they add. None where a sum would not be exact."""
    first: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    later: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}  # keys met again: their rows
    for row in rows:
        k = tuple(row[i] for i in key)
        if k not in first:
            first[k] = row
        else:
            later.setdefault(k, []).append(row)
    if not later:  # one row per key already (a superseding projection's): nothing to merge
        return rows
    with decimal.localcontext(_EXACT):
        for k, again in later.items():
            merged = list(first[k])
            for row in again:
                for i in adds:
                    if not (_summable(row[i]) and _summable(merged[i])):
                        return None
                    merged[i] += row[i]
            for i in overwrites:
                merged[i] = again[-1][i]
            first[k] = tuple(merged)
    return list(first.values())


# Additions in this context are exact (no precision or exponent to round to); an inexact
# or invalid one raises rather than rounds.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow],
)


def _summable(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is decimal.Decimal and value.is_finite())


def _one_type(values: list[Any]) -> bool:
    return len({type(v) for v in values if v is not None}) <= 1
