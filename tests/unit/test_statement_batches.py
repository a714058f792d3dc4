"""A view's upserts are batched into multi-row statements without changing what they do."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from projections import statement_batches

UPSERT = (
    "INSERT INTO things (id, name, n) VALUES (%(id)s, %(name)s, %(n)s)"
    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, n = things.n * EXCLUDED.n"
)
LINE = "INSERT INTO lines (position, seq, text) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
DELETE = "DELETE FROM things WHERE id = %s"
TYPES = {"things": {"id": "uuid", "name": "text", "n": "numeric"}, "lines": {}}


def run(statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    executed: list[tuple[str, Any]] = []
    statement_batches.run(
        statements,
        statement_batches.parse,
        lambda table: TYPES[table] or {"position": "bigint", "seq": "integer", "text": "text"},
        lambda query, params: executed.append((query, params)),
    )
    return executed


def test_only_plain_single_row_inserts_are_understood() -> None:
    assert statement_batches.parse(DELETE) is None
    assert statement_batches.parse("INSERT INTO t (a) SELECT a FROM u") is None
    assert statement_batches.parse("INSERT INTO t (a) VALUES (now())") is None
    upsert = statement_batches.parse(UPSERT)
    assert upsert is not None
    assert (upsert.table, upsert.columns, upsert.key) == ("things", ("id", "name", "n"), (0,))


def test_an_upserted_key_meets_its_rows_in_order_one_per_statement() -> None:
    rows = [{"id": k, "name": f"{k}{v}", "n": v} for k, v in [(1, 1), (2, 1), (1, 2), (1, 3)]]

    executed = run([(UPSERT, row) for row in rows])

    assert [params for _, params in executed] == [
        [[1, 2], ["11", "21"], [1, 1]],
        [[1], ["12"], [2]],
        [[1], ["13"], [3]],
    ]
    assert "unnest(%b::uuid[], %b::text[], %b::numeric[])" in executed[0][0]


def test_other_statements_run_where_they_stand_after_what_came_before() -> None:
    first = [(LINE, (1, 0, "a")), (UPSERT, {"id": 1, "name": "x", "n": 1}), (DELETE, (1,))]
    executed = run([*first, (LINE, (2, 0, "b")), (LINE, (3, 0, "c"))])

    assert [query.split()[0:3] for query, _ in executed] == [
        ["INSERT", "INTO", "lines"],
        ["INSERT", "INTO", "things"],
        ["DELETE", "FROM", "things"],
        ["INSERT", "INTO", "lines"],
    ]
    assert executed[3][1] == [[2, 3], [0, 0], ["b", "c"]]


def test_rows_that_only_overwrite_come_to_one_per_key() -> None:
    overwrite = (
        "INSERT INTO things (id, name, n) VALUES (%s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n"
    )

    executed = run(
        [(overwrite, (1, "first", 1)), (overwrite, (2, "b", 5)), (overwrite, (1, "last", 3))]
    )

    # The name is only ever inserted: the first row's stays; n is overwritten: the last's.
    assert [params for _, params in executed] == [[[1, 2], ["first", "b"], [3, 5]]]


def test_consecutive_single_key_deletes_of_a_table_run_as_one() -> None:
    upsert = {"id": 9, "name": "x", "n": 1}
    executed = run(
        [
            (UPSERT, upsert),
            (DELETE, (1,)),
            (DELETE, (2,)),
            (DELETE, (3,)),
            (UPSERT, upsert),
            (DELETE, (4,)),
            (DELETE, (None,)),  # matches nothing, one by one as in one
        ]
    )

    assert [(query.split()[0], params) for query, params in executed] == [
        ("INSERT", (9, "x", 1)),
        ("DELETE", ([1, 2, 3],)),
        ("INSERT", (9, "x", 1)),
        ("DELETE", (4,)),
        ("DELETE", (None,)),
    ]
    assert executed[1][0] == "DELETE FROM things WHERE id = ANY(%s)"
    assert executed[3][0] == DELETE


def copied(statements: list[tuple[str, Any]]) -> tuple[list[Any], list[tuple[str, Any]]]:
    """What `run` hands to a copier (table and row count per copy), and what it executes."""
    copies: list[Any] = []
    executed: list[tuple[str, Any]] = []
    statement_batches.run(
        statements,
        statement_batches.parse,
        lambda table: TYPES[table] or {"position": "bigint", "seq": "integer", "text": "text"},
        lambda query, params: executed.append((query, params)),
        lambda insert, rows: copies.append((insert.copy_statement, rows)),
    )
    return copies, executed


def test_many_appended_rows_are_copied_upserts_and_few_rows_are_not() -> None:
    many = statement_batches.COPY_FROM
    lines = [(LINE, (n, 0, f"line {n}")) for n in range(many)]
    upserts = [(UPSERT, {"id": n, "name": "x", "n": 1}) for n in range(many)]

    copies, executed = copied([*lines, *upserts])

    assert copies == [
        ("COPY lines (position, seq, text) FROM STDIN", [params for _, params in lines])
    ]
    assert [query.split()[2] for query, _ in executed] == ["things"]

    copies, executed = copied(lines[:-1])  # one row short
    assert copies == []
    assert len(executed) == 1


def test_rows_sharing_a_conflict_key_are_not_copied() -> None:
    keyed = "INSERT INTO lines (position, seq, text) VALUES (%s, %s, %s) ON CONFLICT (position, seq) DO NOTHING"
    rows = [(keyed, (n, 0, "a")) for n in range(statement_batches.COPY_FROM)]

    copies, _ = copied(rows)
    assert len(copies) == 1

    # The first of two rows with one key wins in one by one inserts; a COPY would fail.
    copies, executed = copied([*rows, (keyed, (0, 0, "b"))])
    assert copies == []
    assert len(executed) == 2


def test_copy_names_the_table_and_columns_as_the_insert_does() -> None:
    insert = statement_batches.parse(
        'INSERT INTO "lines" AS l ("position", seq) VALUES (%s, %s) ON CONFLICT DO NOTHING'
    )
    assert insert is not None
    assert insert.copy_statement == 'COPY "lines" ("position", seq) FROM STDIN'


ADDING = (
    "INSERT INTO things AS t (id, name, n) VALUES (%s, %s, %s)"
    " ON CONFLICT (id) DO UPDATE SET n = t.n + EXCLUDED.n, name = EXCLUDED.name"
)


def test_rows_that_add_up_come_to_one_per_key_with_the_exact_sum() -> None:
    rows = [
        (1, "a", Decimal("0.1")),
        (2, "b", Decimal(5)),
        (1, "c", Decimal("0.20")),
        (1, "d", Decimal("1E+30")),
        (2, "e", Decimal(7)),
    ]

    executed = run([(ADDING, row) for row in rows])

    # One statement: the sum of each key's rows (as exact as the server's numeric), the
    # overwritten name from the last row.
    assert [params for _, params in executed] == [
        [[1, 2], ["d", "e"], [Decimal("1000000000000000000000000000000.30"), Decimal(12)]]
    ]


def test_rows_whose_sum_the_server_would_compute_otherwise_keep_one_statement_per_row() -> None:
    for odd in (None, 0.5, Decimal("NaN"), True):
        rows = [(1, "a", Decimal(1)), (1, "b", odd)]

        executed = run([(ADDING, row) for row in rows])

        assert [params for _, params in executed] == [
            [[1], ["a"], [Decimal(1)]],
            [[1], ["b"], [odd]],
        ]


def test_only_additions_of_the_table_own_column_are_understood() -> None:
    for tail in (
        "ON CONFLICT (id) DO UPDATE SET n = t.n + EXCLUDED.name",
        "ON CONFLICT (id) DO UPDATE SET n = other.n + EXCLUDED.n",
        "ON CONFLICT (id) DO UPDATE SET n = t.n - EXCLUDED.n",
        "ON CONFLICT (id) DO UPDATE SET n = t.n + EXCLUDED.n WHERE t.n > 0",
    ):
        insert = statement_batches.parse(
            f"INSERT INTO things AS t (id, name, n) VALUES (%s, %s, %s) {tail}"
        )
        assert insert is not None
        assert insert.overwrites is None, tail
    insert = statement_batches.parse(
        "INSERT INTO things (id, n) VALUES (%s, %s)"
        " ON CONFLICT (id) DO UPDATE SET n = things.n + EXCLUDED.n"
    )
    assert insert is not None
    assert (insert.overwrites, insert.adds) == (frozenset(), frozenset({1}))
