"""The `dealerbot` command as a process: database commands and the terminal chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actions import registry  # noqa: F401  (every domain's handlers and texts)

from actions.kit.catalog import text

DEALERBOT = str(Path(sys.executable).with_name("dealerbot"))


def dealerbot(
    db_url: str, *args: str, stdin: str | None = None, rasa_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    env.update(DATABASE_URL=db_url, LOG_FORMAT="json")
    if rasa_url:
        env["RASA_URL"] = rasa_url
    return subprocess.run(
        [DEALERBOT, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    done = dealerbot(empty_db_url, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "database at revision" in done.stdout
    return empty_db_url


def test_import_of_a_bad_file_exits_non_zero_lists_every_bad_row_and_writes_nothing(db_url, tmp_path):
    bad = tmp_path / "customers.csv"
    bad.write_text("phone,name\n+971501234567,Good Row\nnot-a-phone,Bad Row\n+971502222222,\n", encoding="utf-8")
    done = dealerbot(db_url, "db", "import", "customers", str(bad))
    assert done.returncode == 1
    assert f"{bad}: line 3: unparseable phone 'not-a-phone'" in done.stderr
    assert f"{bad}: line 4: name is empty" in done.stderr
    assert "2 bad row(s)" in done.stderr and "nothing was imported" in done.stderr
    # The good row was not written either: importing only it adds exactly one customer.
    good = tmp_path / "good.csv"
    good.write_text("phone,name\n+971501234567,Good Row\n", encoding="utf-8")
    done = dealerbot(db_url, "db", "import", "customers", str(good))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "customers: 1 rows, 1 added, 0 updated, 0 unchanged"


def test_import_of_a_missing_file_says_so(db_url, tmp_path):
    done = dealerbot(db_url, "db", "import", "vehicles", str(tmp_path / "nope.csv"))
    assert done.returncode == 1
    assert "cannot read" in done.stderr


def test_chat_greets_a_known_customer_by_name_in_their_language(db_url, tmp_path, rasa_server):
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "phone,name,language\n+971501234567,Ahmed Al Mansouri,en\n+971552345678,فاطمة الهاشمي,ar\n",
        encoding="utf-8",
    )
    assert dealerbot(db_url, "db", "import", "customers", str(customers)).returncode == 0
    done = dealerbot(db_url, "chat", "--phone", "050 123 4567", "--json", stdin="hello\nbye\n", rasa_url=rasa_server)
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(replies) == 2
    assert "Ahmed Al Mansouri" in replies[0]["text"] and replies[0]["options"]
    assert replies[1]["text"] == text("goodbye_reply", "en")
    arabic = dealerbot(db_url, "chat", "--phone", "+971552345678", "--json", stdin="مرحبا\n", rasa_url=rasa_server)
    assert "فاطمة الهاشمي" in json.loads(arabic.stdout.splitlines()[0])["text"]
    assert "مرحباً" in json.loads(arabic.stdout.splitlines()[0])["text"]


def test_chat_with_an_unknown_number_shows_no_customer_data(db_url, rasa_server):
    done = dealerbot(db_url, "chat", "--phone", "+971509999999", "--json", stdin="hi\n", rasa_url=rasa_server)
    reply = json.loads(done.stdout.splitlines()[0])
    assert reply["text"] == text("greet_unknown_short", "en")
    assert {o["id"] for o in reply["options"]} == {"intent:dealership_info", "intent:human_agent"}


def test_chat_refuses_a_phone_that_is_not_a_number(db_url):
    done = dealerbot(db_url, "chat", "--phone", "hello", stdin="")
    assert done.returncode == 2
    assert "unparseable phone" in done.stderr


def test_a_placeholder_secret_stops_the_program_with_the_settings_name(db_url):
    done = subprocess.run(
        [DEALERBOT, "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": "changeme"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert "changeme" not in done.stderr
