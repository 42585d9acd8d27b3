"""Import throughput: 100,000 vehicles (and their 60,000 owners) on SQLite and PostgreSQL.

Generates deterministic CSV files once (benchmarks/.data/), then for each database: a fresh schema,
the customers import, the vehicles import, and the same vehicles file again (the idempotent re-import
that changes nothing). Each step is one transaction, as `dealerbot db import` runs it.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db import migrate
from db.engine import make_engine, make_session_factory, normalise_url
from db.imports import import_file
from db.validation import normalise_phone

DATA_DIR = Path(__file__).resolve().parent / ".data"
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
MAKES = [
    ("Toyota", "JTM", ["Land Cruiser", "Camry", "Corolla", "Prado", "Hilux"]),
    ("Nissan", "JN8", ["Patrol", "Altima", "Sunny", "X-Trail"]),
    ("Lexus", "JTJ", ["LX 600", "ES 350", "RX 350"]),
    ("Hyundai", "KMH", ["Tucson", "Elantra", "Sonata"]),
    ("Mercedes-Benz", "WDD", ["C 200", "E 300", "GLE 450"]),
]
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def generate(vehicles: int, customers: int) -> tuple[Path, Path]:
    DATA_DIR.mkdir(exist_ok=True)
    cpath = DATA_DIR / f"customers-{customers}.csv"
    vpath = DATA_DIR / f"vehicles-{vehicles}.csv"
    if cpath.exists() and vpath.exists():
        return cpath, vpath
    rng = random.Random(42)
    phones = [f"+9715{rng.choice('024568')}{1000000 + i:07d}" for i in range(customers)]
    with cpath.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["phone", "name", "email", "language"])
        for i, phone in enumerate(phones):
            w.writerow([phone, f"Customer {i}", f"c{i}@example.ae", rng.choice(["en", "ar"])])
    start = date(2019, 1, 1)
    with vpath.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["vin", "plate", "make", "model", "year", "purchase_date", "owner_phone", "mileage_km"])
        for i in range(vehicles):
            make, wmi, models = rng.choice(MAKES)
            vin = wmi + "".join(rng.choice(VIN_CHARS) for _ in range(6)) + f"{i:08d}"
            bought = start + timedelta(days=rng.randrange(0, 2500))
            purchase = bought.strftime("%d/%m/%Y") if i % 2 else bought.isoformat()
            w.writerow([vin, f"Dubai {chr(65 + i % 26)} {i % 100000}", make, rng.choice(models),
                        rng.randrange(2012, 2026), purchase, phones[i % customers], rng.randrange(0, 250000)])
    return cpath, vpath


def _postgres_schema_url(base: str) -> tuple[str, str]:
    schema = f"dealerbot_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(normalise_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def _drop_schema(base: str, schema: str) -> None:
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def run_one(label: str, url: str, cpath: Path, vpath: Path) -> list[tuple[str, int, float]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    now = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    figures = []
    for step, kind, path in (
        ("customers", "customers", cpath),
        ("vehicles", "vehicles", vpath),
        ("vehicles again (no change)", "vehicles", vpath),
    ):
        normalise_phone.cache_clear()  # each import is its own process in real use: no warm cache
        t0 = time.perf_counter()
        with sessions() as session, session.begin():
            result = import_file(session, kind, path, now, now.date())
        elapsed = time.perf_counter() - t0
        figures.append((step, result.rows, elapsed))
        print(f"  {label:<10} {step:<28} {result.rows:>8,} rows {elapsed:8.2f} s {result.rows / elapsed:>10,.0f} rows/s")
    engine.dispose()
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_import")
    parser.add_argument("--vehicles", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=60_000)
    args, _ = parser.parse_known_args(argv)
    cpath, vpath = generate(args.vehicles, args.customers)
    print(f"import: {args.customers:,} customers, then {args.vehicles:,} vehicles (one transaction per file)")
    sqlite_path = DATA_DIR / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    run_one("sqlite", f"sqlite:///{sqlite_path}", cpath, vpath)
    base = os.environ.get("DEALERBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    url, schema = _postgres_schema_url(base)
    try:
        run_one("postgresql", url, cpath, vpath)
    finally:
        _drop_schema(base, schema)
