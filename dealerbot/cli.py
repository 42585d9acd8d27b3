"""The `dealerbot` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from db.imports import KINDS
from dealerbot.bootstrap import App, bootstrap
from dealerbot.logging import get_logger
from dealerbot.settings import load_settings
from nlu.rasa import RasaProject

log = get_logger("dealerbot.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dealerbot", description="After-sales assistant of the dealership.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to the assistant as a customer, in the terminal")
    chat.add_argument("--phone", required=True, help="the customer's phone number (E.164, e.g. +971501234567)")
    chat.add_argument("--json", action="store_true", help="print each reply as one JSON object per line")

    serve = commands.add_parser("serve", help="run the web app: Telegram and WhatsApp webhooks, health, metrics")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--no-scheduler", action="store_true",
                       help="do not run the scheduler and the outbox dispatcher in this process")
    scheduler = commands.add_parser(
        "scheduler", help="run the scheduler's scans and the outbox dispatcher (run-once: one pass, as of --now)"
    )
    scheduler_commands = scheduler.add_subparsers(dest="scheduler_command", metavar="SCHEDULER_COMMAND")
    once = scheduler_commands.add_parser(
        "run-once", help="every scan once, then one dispatch pass; prints the counts as one JSON object"
    )
    once.add_argument("--now", help="ISO-8601 time to run as of (default: now; no offset means DEALERBOT_TZ)")
    commands.add_parser(
        "channels", help="print the channels whose credentials are set; exit status 1 when there are none"
    )

    nlu = commands.add_parser("nlu", help="the Rasa NLU model and server")
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True, metavar="NLU_COMMAND")
    train = nlu_commands.add_parser("train", help="train the model unless config.yml and nlu/data are unchanged")
    train.add_argument("--force", action="store_true", help="train even if an up-to-date model exists")
    serve = nlu_commands.add_parser("serve", help="start the Rasa server on RASA_URL's port (training if needed)")
    serve.add_argument("--detach", action="store_true", help="return once it answers; `nlu stop` stops it")
    nlu_commands.add_parser("stop", help="stop a server started with `nlu serve --detach`")
    parse = nlu_commands.add_parser("parse", help="print intent, confidence and entities of a message")
    parse.add_argument("text")
    evaluate = nlu_commands.add_parser("eval", help="score the served model on a Rasa NLU file, or cross-validate")
    evaluate.add_argument("file", type=Path, nargs="?", help="a Rasa-format NLU YAML file with labelled examples")
    evaluate.add_argument("--cv", type=int, metavar="K", help="k-fold cross-validation over the training data")
    evaluate.add_argument("--config", type=Path, help="pipeline to cross-validate (default: config.yml)")
    evaluate.add_argument("--fold", type=int, metavar="N", help="with --cv: run only fold N (1-based) of the K")
    evaluate.add_argument(
        "--predictions", type=Path, metavar="FILE",
        help="with --cv: write every held-out example's parse (intent ranking) to FILE as JSON lines",
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as one JSON object")
    evaluate.add_argument("--errors", action="store_true", help="also list every misclassified example and every example whose entities were missed")

    advice = commands.add_parser("advice", help="the car-care knowledge base")
    advice_commands = advice.add_subparsers(dest="advice_command", required=True, metavar="ADVICE_COMMAND")
    advice_eval = advice_commands.add_parser(
        "eval", help="score finding the right article on held-out questions (tests/data/advice_heldout.yml)"
    )
    advice_eval.add_argument("file", type=Path, nargs="?")
    advice_eval.add_argument("--misses", action="store_true", help="also list every question answered wrongly")
    advice_commands.add_parser("check", help="read and check every article file")
    advice_commands.add_parser(
        "tune", help="top-1 accuracy, safety answers and honest answers per pair of thresholds on development data "
                     "(not the held-out set)"
    )
    db = commands.add_parser("db", help="the service database")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="apply the database migrations")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    seed = db_commands.add_parser("seed-demo", help="fill an empty database with the demo dealership")
    seed.add_argument("--if-empty", action="store_true", help="do nothing (and succeed) if data is already there")
    imp = db_commands.add_parser(
        "import", help="import a CSV export of the dealer management system, or the workshop's model figures"
    )
    imp.add_argument("kind", choices=list(KINDS))
    imp.add_argument("file", type=Path)
    staff = commands.add_parser("staff", help="staff console accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="STAFF_COMMAND")
    add = staff_commands.add_parser("add", help="add a staff user (the password from a prompt or stdin)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["advisor", "manager", "admin"])
    add.add_argument("--branch", help="the branch code (an advisor's branch; required for an advisor)")
    add.add_argument("--name", help="the name shown in the console")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
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
        if args.command == "serve":
            return _serve(app, args.host, args.port, scheduler=not args.no_scheduler)
        if args.command == "channels":
            return _channels(app)
        if args.command == "scheduler":
            return _scheduler(app, args)
        if args.command == "db":
            return _db(app, args)
        if args.command == "nlu":
            return _nlu(app, args)
        if args.command == "advice":
            return _advice(args)
        if args.command == "staff":
            return _staff(app, args)
    finally:
        app.close()
    return 2


def _staff(app: App, args: argparse.Namespace) -> int:
    import getpass

    from bot.staff.auth import StaffError, add_staff

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("dealerbot: the two passwords differ", file=sys.stderr)
            return 2
    try:
        with app.transaction() as session:
            user = add_staff(session, args.username, args.role, password, app.clock.now(), args.branch, args.name)
            print(f"staff user {user.username!r} ({user.role}) added")
    except StaffError as exc:
        print(f"dealerbot: {exc}", file=sys.stderr)
        return 2
    return 0


def _serve(app: App, host: str, port: int, scheduler: bool = True) -> int:
    import uvicorn

    from bot.web import create_app
    from dealerbot.bootstrap import compose

    try:
        services = compose(app)
    except ValueError as exc:
        print(f"dealerbot: {exc}", file=sys.stderr)
        return 2
    if not services.channels:
        log.warning("no_channel_configured", hint="set TELEGRAM_BOT_TOKEN or the TWILIO_* settings")
    uvicorn.run(create_app(services, scheduler=scheduler), host=host, port=port, log_config=None, access_log=False,
                lifespan="on")
    return 0


def _scheduler(app: App, args: argparse.Namespace) -> int:
    import asyncio
    from datetime import datetime

    from dealerbot.clock import FixedClock

    if args.scheduler_command != "run-once":
        return asyncio.run(_run_scheduler(app))
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            print(f"dealerbot: --now: {args.now!r} is not an ISO-8601 time (e.g. 2026-12-07T09:30:00+04:00)",
                  file=sys.stderr)
            return 2
        app.clock = FixedClock(now if now.tzinfo else now.replace(tzinfo=app.settings.tz))
    return asyncio.run(_run_once(app))


async def _run_scheduler(app: App) -> int:
    """The scans (when this instance leads) and the dispatcher, until stopped (SIGINT/SIGTERM)."""
    import asyncio
    import signal

    from dealerbot.bootstrap import compose
    from scheduler.service import SchedulerService

    try:
        services = compose(app)
        scheduler = SchedulerService(app, services.channels)  # type: ignore[arg-type]
    except ValueError as exc:
        print(f"dealerbot: {exc}", file=sys.stderr)
        return 2
    for channel in services.channels.values():
        await (getattr(channel, "start_sending", None) or channel.start)()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await scheduler.start()
    try:
        await stopping.wait()
    finally:
        await scheduler.stop()
        await services.aclose()
    return 0


async def _run_once(app: App) -> int:
    import json

    from dealerbot.bootstrap import compose
    from scheduler.run import run_once

    try:
        services = compose(app)
    except ValueError as exc:
        print(f"dealerbot: {exc}", file=sys.stderr)
        return 2
    for channel in services.channels.values():
        start = getattr(channel, "start_sending", None) or channel.start
        await start()
    try:
        report = await run_once(app, services.channels)  # type: ignore[arg-type]
    finally:
        await services.aclose()
    print(json.dumps(report))
    return 0


def _advice(args: argparse.Namespace) -> int:
    import json

    from actions.advice import evaluation
    from actions.advice.knowledge import KnowledgeError, read_articles
    from actions.advice.retrieval import Index

    try:
        articles = read_articles()
    except KnowledgeError as exc:
        print(f"dealerbot: {exc}", file=sys.stderr)
        return 1
    if args.advice_command == "check":
        stops = sum(1 for a in articles if a.safety == "stop")
        print(f"{len(articles)} articles, {stops} of them safety (stop driving) topics: all readable")
        return 0
    if args.advice_command == "tune":
        rows = evaluation.tune(articles, evaluation.load(evaluation.DEV), [float(x) for x in range(8, 19)],
                               [float(x) for x in range(3, 11)])
        for row in rows:
            print(f"answer {row['answer_score']:4.1f}, stop {row['stop_score']:4.1f}: top-1 {row['top1']:.3f} "
                  f"(own questions {row['top1_own']:.3f}), safety first {row['safety_first']}, "
                  f"honest {row['honest']:.3f}")
        return 0
    path = args.file or evaluation.HELDOUT
    if not path.exists():
        print(f"dealerbot: no such file: {path}", file=sys.stderr)
        return 2
    report = evaluation.evaluate(Index(articles), evaluation.load(path))
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    if args.misses:
        for question, expected, got in report.misses:
            print(f"- {question!r}: expected {expected}, got {got or '(nothing)'}")
    return 0


def _channels(app: App) -> int:
    from dealerbot.bootstrap import configured_channels

    names = configured_channels(app.settings)
    if not names:
        print("no channel configured (TELEGRAM_BOT_TOKEN, TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN/TWILIO_WHATSAPP_FROM)")
        return 1
    mode = "webhook" if app.settings.public_base_url else "polling"
    print(", ".join(f"telegram ({mode})" if n == "telegram" else n for n in names))
    return 0


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


def _nlu(app: App, args: argparse.Namespace) -> int:
    from nlu import commands

    project = RasaProject()
    url = app.settings.rasa_url
    try:
        if args.nlu_command == "train":
            result = commands.train(project, force=args.force)
            state = f"trained in {result.seconds:.1f} s" if result.trained else "up to date, not retrained"
            print(f"{result.model.relative_to(project.root)}: {state}")
            return 0
        if args.nlu_command == "serve":
            served = commands.serve(project, url, detach=args.detach)
            if not served.started:
                print(f"Rasa server already answers at {url} with {served.model.name}")
            elif args.detach:
                print(f"Rasa server ready at {url} in {served.seconds:.1f} s (pid {served.pid}, log var/rasa.log)")
            return 0
        if args.nlu_command == "stop":
            print("Rasa server stopped" if commands.stop(project) else "no Rasa server started by `nlu serve --detach` runs")
            return 0
        if args.nlu_command == "parse":
            print(commands.render_parse(commands.parse_one(url, args.text)))
            return 0
        if args.nlu_command == "eval":
            return _nlu_eval(project, url, args)
    except (RuntimeError, TimeoutError, ValueError, OSError) as exc:
        print(f"dealerbot: {exc}", file=sys.stderr)
        return 1
    return 2


def _nlu_eval(project: RasaProject, url: str, args: argparse.Namespace) -> int:
    from nlu import commands
    from nlu.evaluation import render

    if args.cv:
        if args.fold is not None and not 1 <= args.fold <= args.cv:
            print(f"dealerbot: --fold must be between 1 and {args.cv}", file=sys.stderr)
            return 2
        cv = commands.cross_validate(project, args.cv, config=args.config, only_fold=args.fold)
        if args.predictions:
            with args.predictions.open("w", encoding="utf-8") as out:
                for row in cv.predictions():
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
        report = cv.report
        title = f"{args.cv}-fold cross-validation of {(args.config or 'config.yml')}"
        if args.fold:
            title = f"fold {args.fold} of the {title}"
    elif args.file:
        if args.config or args.fold or args.predictions:
            print("dealerbot: --config, --fold and --predictions apply to --cv only", file=sys.stderr)
            return 2
        report = commands.evaluate_file(url, args.file)
        title = f"{args.file} against the model served at {url}"
    else:
        print("dealerbot: give a FILE to evaluate, or --cv K", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(render(report, title))
    if args.errors:
        print("\nmisclassified:")
        for example, predicted, confidence in report.errors:
            print(f"  [{example.intent} -> {predicted} {confidence:.2f}] {example.text}")
        print("\nentities not found as annotated (the line as annotated -> what the model found):")
        for example, found in report.entity_errors:
            print(f"  {example.raw} -> {', '.join(f'{name}={value}' for name, value in found) or 'nothing'}")
    return 0


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
