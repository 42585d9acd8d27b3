"""`make run` on a fresh database: migrates, seeds the demo dealership, greets the demo customer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_run_prepares_the_database_and_greets_the_demo_customer_by_name(empty_db_url):
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env["DATABASE_URL"] = empty_db_url
    done = subprocess.run(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        input="hello\nbye\n",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Hello Ahmed Al Mansouri!" in done.stdout
    assert "Toyota Land Cruiser" in done.stdout
    # A second run finds the data already there and does not seed twice.
    again = subprocess.run(
        ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, input="hi\n",
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "demo data not added" in again.stdout
    assert "Hello Ahmed Al Mansouri!" in again.stdout
