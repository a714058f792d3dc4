"""The `ledger` command line: serve, migrate, project, tenants, rebuild, verify, db."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from typing import Any

import orjson

from api.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API (and the projectors)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="create the database and apply migrations")
    commands.add_parser("project", help="run the projectors only, until interrupted")
    tenants = commands.add_parser("tenants", help="manage tenants")
    tenant_commands = tenants.add_subparsers(dest="tenant_command", required=True)
    create = tenant_commands.add_parser("create", help="create a tenant; prints its owner key")
    create.add_argument("--legal-name", required=True)
    create.add_argument("--country", required=True)
    create.add_argument("--currency", required=True)
    create.add_argument("--address-line1", required=True)
    create.add_argument("--city", required=True)
    create.add_argument("--postal-code")
    create.add_argument("--vat-id")
    create.add_argument("--invoice-prefix", default="INV")
    create.add_argument("--credit-note-prefix", default="CN")
    create.add_argument("--payment-terms-days", type=int, default=14)
    create.add_argument("--locale", default="en")
    rebuild = commands.add_parser(
        "rebuild",
        help="replay all events into new tables and swap them in (readers keep the old rows "
        "meanwhile); with --check, compare instead and exit 1 if they differ",
    )
    rebuild.add_argument("projection", nargs="?", help="default: all")
    rebuild.add_argument(
        "--check",
        action="store_true",
        help="rebuild into scratch tables, print the differences from the live tables, drop "
        "the scratch tables",
    )
    rebuild.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes replaying all projections, each taking part of the tenants "
        "(default: the number of cores, at most 4; 1 to replay in this process)",
    )
    check = commands.add_parser(
        "verify", help="recompute the events' hash chains; exit 1 on the first broken link"
    )
    check.add_argument("--tenant", help="one tenant's chain (default: every tenant's)")
    check.add_argument(
        "--checkpoint",
        help="also check a signed checkpoint file: its signature, and that the chain still "
        "passes through the hash it signed",
    )
    check.add_argument("--public-key", help="the operator's pinned public key (base64)")
    point = commands.add_parser(
        "checkpoint", help="print a signed checkpoint of each tenant's chain head (JSON lines)"
    )
    point.add_argument("--tenant", help="only this tenant")
    point.add_argument("--new-key", action="store_true", help="print a new signing key and exit")
    billing = commands.add_parser("billing", help="subscription billing")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True)
    billing_run = billing_commands.add_parser(
        "run", help="bill every subscription period that ended by --as-of (once; prints JSON)"
    )
    billing_run.add_argument("--as-of", required=True, help="YYYY-MM-DD")
    billing_run.add_argument("--tenant", help="only this tenant (default: every tenant)")
    db = commands.add_parser("db", help="the embedded PostgreSQL")
    db.add_argument("action", choices=["start", "stop", "url"])
    args = parser.parse_args(argv)
    settings = Settings()
    handler = {
        "serve": _serve,
        "migrate": _migrate,
        "project": _project,
        "tenants": _create_tenant,
        "rebuild": _rebuild,
        "verify": _verify,
        "checkpoint": _checkpoint,
        "db": _db,
        "billing": _billing_run,
    }[args.command]
    return handler(settings, args)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from api.serving import serve

    _migrate(settings, args)
    return serve("api.main:app", args.host, args.port, args.workers)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from projections.migrations import ensure_database, migrate

    location = settings.location()
    ensure_database(location)
    for name in migrate(location):
        print(f"applied {name}", file=sys.stderr)
    return 0


def _ledger(settings: Settings):  # type: ignore[no-untyped-def]
    from ledger.application import Ledger
    from projections.event_chain import ledger_env
    from projections.migrations import ensure_database, migrate

    location = settings.location()
    ensure_database(location)
    migrate(location)
    return location, Ledger(env=ledger_env(location, settings.pool_size))


def _billing_run(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date
    from uuid import UUID

    import psycopg

    from ledger.context import CommandContext
    from projections.chain_verify import heads
    from projections.event_chain import NO_TENANT

    as_of = date.fromisoformat(args.as_of)
    location, ledger = _ledger(settings)
    if args.tenant:
        tenant_ids = [UUID(args.tenant)]
    else:
        # Every tenant's registration starts its hash chain, so the chain heads list them.
        with psycopg.connect(location.conninfo()) as conn:
            tenant_ids = sorted(tenant for tenant in heads(conn) if tenant != NO_TENANT)
    try:
        for tenant_id in tenant_ids:
            ctx = CommandContext(tenant_id=tenant_id, actor="cli", correlation_id="billing-run")
            run = ledger.run_billing(ctx, as_of)
            for billed in run.billed:
                line = {k: str(v) if v is not None else None for k, v in vars(billed).items()}
                print(orjson.dumps({"tenant_id": str(tenant_id), **line}).decode())
    finally:
        ledger.close()
    return 0


def _project(settings: Settings, args: argparse.Namespace) -> int:
    from projections.runner import Projectors

    location, ledger = _ledger(settings)
    projectors = Projectors(ledger, location)
    projectors.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    projectors.stop()
    return 0


def _create_tenant(settings: Settings, args: argparse.Namespace) -> int:
    from api.routes.tenants import TenantIn
    from ledger.context import CommandContext

    profile = TenantIn(
        legal_name=args.legal_name,
        country=args.country,
        currency=args.currency,
        address={
            "line1": args.address_line1,
            "city": args.city,  # type: ignore[arg-type]
            "postal_code": args.postal_code,
            "country": args.country,
        },
        vat_id=args.vat_id,
        invoice_prefix=args.invoice_prefix,
        credit_note_prefix=args.credit_note_prefix,
        payment_terms_days=args.payment_terms_days,
        locale=args.locale,
    ).model_dump(mode="json")
    _, ledger = _ledger(settings)
    registration = ledger.register_tenant(
        CommandContext(tenant_id=None, actor="cli", correlation_id="cli"), profile
    )
    sys.stdout.write(
        orjson.dumps(
            {
                "tenant_id": str(registration.tenant.id),
                "api_key": registration.owner_key.secret,
            }
        ).decode()
        + "\n"
    )
    return 0


def _rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from projections.rebuild import RebuildRunning
    from projections.rebuild_parts import default_workers
    from projections.runner import Projectors, check, rebuild, rebuild_all

    location, ledger = _ledger(settings)
    projectors = Projectors(ledger, location)
    names = [args.projection] if args.projection else list(projectors.by_name)
    differ = False
    if not args.check and not args.projection:
        # All of them in one read of the store, each event decoded once for all.
        def show_all(done: int, total: int) -> None:
            filled = 40 * min(done, total) // max(total, 1)
            sys.stderr.write(
                f"\rall projections [{'#' * filled}{'-' * (40 - filled)}] {done}/{total}"
            )
            sys.stderr.flush()

        try:
            rebuilt = rebuild_all(
                ledger,
                list(projectors.by_name.values()),
                location,
                show_all,
                workers=max(1, args.workers or default_workers()),
            )
        except RebuildRunning as running:
            print(f"ledger rebuild: {running}", file=sys.stderr)
            return 1
        sys.stderr.write(f"\r{', '.join(names)} rebuilt from {rebuilt.read} events{' ' * 20}\n")
        return 0
    for name in names:
        if name not in projectors.by_name:
            print(f"unknown projection {name!r}; known: {', '.join(projectors.by_name)}")
            return 2

        def show(done: int, total: int, name: str = name) -> None:
            width = 40
            filled = width * min(done, total) // max(total, 1)
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r{name:<16} [{bar}] {done}/{total}")
            sys.stderr.flush()

        try:
            if args.check:
                diffs = check(ledger, projectors.by_name[name], location, show)
            else:
                count = rebuild(ledger, projectors.by_name[name], location, show)
        except RebuildRunning as running:
            print(f"ledger rebuild: {running}", file=sys.stderr)
            return 1
        if not args.check:
            sys.stderr.write(f"\r{name:<16} rebuilt from {count} events{' ' * 40}\n")
            continue
        sys.stderr.write(f"\r{name:<16} checked{' ' * 60}\n")
        for diff in diffs:
            verdict = "equal" if diff.equal else "DIFFERS"
            print(f"{name}.{diff.table}: {verdict}, {diff.missing} missing, {diff.extra} extra")
            for row in diff.missing_examples:
                print(f"  missing: {row}")
            for row in diff.extra_examples:
                print(f"  extra:   {row}")
            differ = differ or not diff.equal
    return 1 if differ else 0


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    import time
    from uuid import UUID

    import psycopg

    from projections.chain_verify import verify
    from projections.migrations import ensure_database, migrate

    location = settings.location()
    ensure_database(location)
    migrate(location)
    tenant = UUID(args.tenant) if args.tenant else None
    started = time.perf_counter()

    def show(done: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        sys.stderr.write(f"\rverified {done} events ({rate:,.0f} events/s)")
        sys.stderr.flush()

    with psycopg.connect(location.conninfo()) as conn:
        result = verify(conn, tenant, show)
        held = _held_checkpoint(conn, args) if args.checkpoint else True
    sys.stderr.write("\n")
    for found in result.breaks or []:
        print(
            f"BROKEN at position {found.position}: {found.kind}; tenant {found.tenant_id}, "
            f"aggregate {found.aggregate_id} v{found.aggregate_version}: {found.detail}"
        )
    print(f"{result.checked} events checked, {len(result.breaks or [])} broken links")
    return 0 if result.ok and held else 1


def _held_checkpoint(conn: Any, args: argparse.Namespace) -> bool:
    from pathlib import Path

    from api.checkpoints import signature_holds
    from projections.chain_verify import link_at

    checkpoint = orjson.loads(Path(args.checkpoint).read_bytes())
    if not signature_holds(checkpoint, args.public_key):
        print("CHECKPOINT: the signature does not hold")
        return False
    link = link_at(conn, int(checkpoint["position"]))
    if link is None or (str(link[0]), link[1].hex()) != (
        checkpoint["tenant_id"],
        checkpoint["hash"],
    ):
        print(
            f"CHECKPOINT: the chain no longer passes through {checkpoint['hash']} at position "
            f"{checkpoint['position']}: history was rewritten"
        )
        return False
    print(f"checkpoint of position {checkpoint['position']} holds")
    return True


def _checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from uuid import UUID

    import psycopg

    from api.checkpoints import CheckpointsDisabled, new_key, sign, signing_key
    from projections.chain_verify import heads

    if args.new_key:
        print(new_key())
        return 0
    secret = settings.checkpoint_key.get_secret_value() if settings.checkpoint_key else None
    try:
        key = signing_key(secret)
    except CheckpointsDisabled as disabled:
        print(f"ledger checkpoint: {disabled.detail}", file=sys.stderr)
        return 2
    with psycopg.connect(settings.location().conninfo(), autocommit=True) as conn:
        recorded = heads(conn, UUID(args.tenant) if args.tenant else None)
    now = datetime.now(UTC)
    for tenant_id in sorted(recorded):
        position, digest = recorded[tenant_id]
        print(orjson.dumps(sign(key, tenant_id, position, digest, now)).decode())
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from ledger.persistence import EMBEDDED_DBNAME, embedded_server_location, stop_embedded_server

    data_dir = settings.data_dir.resolve()
    if args.action == "stop":
        stopped = stop_embedded_server(data_dir)
        print("stopped" if stopped else "not running", file=sys.stderr)
        return 0
    location = embedded_server_location(data_dir).with_dbname(EMBEDDED_DBNAME)
    if args.action == "url":
        print(location.url())
    return 0


if __name__ == "__main__":
    sys.exit(main())
