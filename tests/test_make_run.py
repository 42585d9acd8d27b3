"""`make run` on a fresh database: migrates, seeds the demo dealership, greets the demo customer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from nlu.commands import free_port

pytestmark = [pytest.mark.slow, pytest.mark.rasa]

ROOT = Path(__file__).resolve().parent.parent


def _make(target: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=900, check=False,
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def rasa_url():
    """The NLU server's address for both databases' runs: the first `make run` starts it, every later
    one finds it answering (one server start, ~40 s, instead of one per database); `make stop` at the end
    stops it."""
    url = f"http://127.0.0.1:{free_port()}"
    yield url
    stopped = _make("stop", _env(RASA_URL=url))
    assert "Rasa server stopped" in stopped.stdout


def test_make_run_prepares_the_database_and_greets_the_demo_customer_by_name(empty_db_url, rasa_url):
    env = _env(DATABASE_URL=empty_db_url, RASA_URL=rasa_url)
    done = _make("run", env, "hello\nany recalls on my land cruiser?\nbye\n")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Rasa server ready at {rasa_url}" in done.stdout or "Rasa server already answers" in done.stdout
    assert "Hello Ahmed Al Mansouri!" in done.stdout
    assert "Toyota Land Cruiser" in done.stdout
    # A second run finds the data and the server there and prepares nothing twice.
    again = _make("run", env, "hi\n")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "demo data not added" in again.stdout
    assert "Rasa server already answers" in again.stdout
    assert "Hello Ahmed Al Mansouri!" in again.stdout
