"""The `dealerbot` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from dealerbot.bootstrap import App, bootstrap
from dealerbot.logging import get_logger
from dealerbot.settings import load_settings

log = get_logger("dealerbot.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dealerbot", description="After-sales assistant of the dealership.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to the assistant as a customer, in the terminal")
    chat.add_argument("--phone", required=True, help="the customer's phone number (E.164, e.g. +971501234567)")
    chat.add_argument("--json", action="store_true", help="print each reply as one JSON object per line")

    db = commands.add_parser("db", help="the service database")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="apply the database migrations")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    seed = db_commands.add_parser("seed-demo", help="fill an empty database with the demo dealership")
    seed.add_argument("--if-empty", action="store_true", help="do nothing (and succeed) if data is already there")
    imp = db_commands.add_parser("import", help="import a CSV export of the dealer management system")
    imp.add_argument("kind", choices=["customers", "vehicles", "service-records"])
    imp.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        print(f"dealerbot: bad setting: {problems}", file=sys.stderr)
        return 2
    app = bootstrap(settings)
    try:
        if args.command == "chat":
            from bot.console import run_chat
            from db.validation import InvalidValue, normalise_phone

            try:
                phone = normalise_phone(args.phone)
            except InvalidValue as exc:
                print(f"dealerbot: --phone: {exc}", file=sys.stderr)
                return 2
            return run_chat(app, phone, args.json)
        if args.command == "db":
            return _db(app, args)
    finally:
        app.close()
    return 2


def _db(app: App, args: argparse.Namespace) -> int:
    if args.db_command == "upgrade":
        from db import migrate

        migrate.upgrade(app.engine, args.revision)
        print(f"database at revision {migrate.current_revision(app.engine)}")
        return 0
    if args.db_command == "seed-demo":
        from db.demo import DemoAlreadySeeded, seed_demo

        try:
            with app.transaction() as session:
                counts = seed_demo(session, app.clock.now())
        except DemoAlreadySeeded:
            if args.if_empty:
                print("the database already has data; demo data not added")
                return 0
            print("dealerbot: the database already has data; seed-demo only fills an empty one", file=sys.stderr)
            return 1
        print(json.dumps(counts))
        return 0
    if args.db_command == "import":
        return _import(app, args.kind, args.file)
    return 2


def _import(app: App, kind: str, path: Path) -> int:
    from db.imports import ImportFailed, import_file
    from dealerbot.progress import import_progress

    now = app.clock.now()
    try:
        with import_progress(path) as progress, app.transaction() as session:
            result = import_file(session, kind, path, now, now.astimezone(app.settings.tz).date(), progress)
    except ImportFailed as failed:
        errors = failed.result.errors
        for error in errors:
            print(f"{path}: {error}", file=sys.stderr)
        print(
            f"dealerbot: {len(errors)} bad row(s) in {path}; nothing was imported",
            file=sys.stderr,
        )
        return 1
    log.info("import_finished", **result.as_dict())
    print(
        f"{kind}: {result.rows} rows, {result.inserted} added, {result.updated} updated, "
        f"{result.unchanged} unchanged"
        + (f", {result.readings_added} mileage readings" if kind == "vehicles" else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
