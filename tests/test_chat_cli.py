"""The terminal chat contract, as a process: `dealerbot chat --phone +971... --json` reading stdin lines.

Every line of output is one JSON object `{"text": ..., "options": [{"id": ..., "label": ...}]}`; a line
that is an option's number (or label) selects it; a phone that is not a number stops the program with a
clear message. The chat runs against a migrated, demo-seeded SQLite file and the test Rasa server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from actions import registry  # noqa: F401  (every domain's handlers and texts)
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.catalog import text
from db.engine import make_engine
from db.models import ChannelIdentity, ChatMessage, Customer, Handoff
from nlu.commands import free_port

DEALERBOT = str(Path(sys.executable).with_name("dealerbot"))
AHMED = "+971501234567"
FATIMA = "+971552345678"


def dealerbot(db_url: str, *args: str, stdin: str = "", rasa_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    env.update(DATABASE_URL=db_url, LOG_FORMAT="json")
    if rasa_url:
        env["RASA_URL"] = rasa_url
    return subprocess.run(
        [DEALERBOT, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo dealership, made once by the command itself."""
    path = tmp_path_factory.mktemp("chat") / "template.sqlite3"
    url = f"sqlite:///{path}"
    for command in (("db", "upgrade"), ("db", "seed-demo")):
        done = dealerbot(url, *command)
        assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def db_url(seeded_file: Path, tmp_path: Path) -> str:
    """A private copy of the seeded file for one test."""
    copy = tmp_path / "chat.sqlite3"
    shutil.copy(seeded_file, copy)
    for suffix in ("-wal", "-shm"):
        extra = seeded_file.with_name(seeded_file.name + suffix)
        if extra.exists():
            shutil.copy(extra, copy.with_name(copy.name + suffix))
    return f"sqlite:///{copy}"


def chat(db_url: str, phone: str, *lines: str, rasa_url: str) -> list[dict]:
    done = dealerbot(db_url, "chat", "--phone", phone, "--json", stdin="".join(f"{line}\n" for line in lines),
                     rasa_url=rasa_url)
    assert done.returncode == 0, done.stderr
    return [_one_reply(line) for line in done.stdout.splitlines()]


def _one_reply(line: str) -> dict:
    """One output line: exactly one JSON object of the contract's shape."""
    reply = json.loads(line)  # fails on anything but one JSON value per line
    assert isinstance(reply, dict) and set(reply) == {"text", "options"}, line
    assert isinstance(reply["text"], str) and reply["text"].strip(), line
    assert isinstance(reply["options"], list), line
    for option in reply["options"]:
        assert isinstance(option, dict) and set(option) == {"id", "label"}, line
        assert isinstance(option["id"], str) and option["id"], line
        assert isinstance(option["label"], str) and option["label"], line
    return reply


def rows(db_url: str, model, *where):  # noqa: ANN001, ANN201
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(model).where(*where)))
    finally:
        engine.dispose()


def test_every_line_of_output_is_one_json_object_of_the_contract(db_url, rasa_server):
    replies = chat(db_url, AHMED, "hello", "", "   ", "thanks", "bye", rasa_url=rasa_server)
    # Blank lines are not messages: three messages, three replies.
    assert len(replies) == 3
    assert replies[0]["text"] == text("greet_known", "en", name="Ahmed Al Mansouri")
    assert replies[0]["options"][0] == {"id": "intent:book_service", "label": text("menu_book_service", "en")}
    assert replies[1]["text"] == text("thanks_reply", "en")
    assert replies[2] == {"text": text("goodbye_reply", "en"), "options": []}  # empty list, not missing


def test_arabic_replies_are_written_as_utf8_text_not_escapes(db_url, rasa_server):
    done = dealerbot(db_url, "chat", "--phone", FATIMA, "--json", stdin="مرحبا\n", rasa_url=rasa_server)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert "فاطمة الهاشمي" in line and "\\u" not in line
    assert _one_reply(line)["text"] == text("greet_known", "ar", name="فاطمة الهاشمي")


def test_a_line_that_is_an_options_number_selects_it(db_url, rasa_server):
    [menu] = chat(db_url, AHMED, "hello", rasa_url=rasa_server)
    number = [o["id"] for o in menu["options"]].index("intent:human_agent") + 1
    # A second process: the offered options come from the database, not from memory.
    [reply] = chat(db_url, AHMED, str(number), rasa_url=rasa_server)
    assert reply["text"] not in {text("fallback_reply", "en"), text("out_of_scope_reply", "en")}
    [ahmed] = rows(db_url, Customer, Customer.phone == AHMED)
    [handoff] = rows(db_url, Handoff, Handoff.customer_id == ahmed.id)
    assert handoff.status == "open"
    # The bot is quiet now: a message prints nothing and is still kept.
    assert chat(db_url, AHMED, "hello?", rasa_url=rasa_server) == []
    [identity] = rows(db_url, ChannelIdentity, ChannelIdentity.customer_id == ahmed.id)
    said = [m.text for m in rows(db_url, ChatMessage, ChatMessage.channel_identity_id == identity.id)]
    assert said[-1] == "hello?"


def test_a_line_that_is_an_options_label_selects_it_in_arabic(db_url, rasa_server):
    menu, reply = chat(db_url, FATIMA, "مرحبا", text("menu_human_agent", "ar"), rasa_url=rasa_server)
    assert text("menu_human_agent", "ar") in [o["label"] for o in menu["options"]]
    [fatima] = rows(db_url, Customer, Customer.phone == FATIMA)
    assert [h.status for h in rows(db_url, Handoff, Handoff.customer_id == fatima.id)] == ["open"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in reply["text"])


def test_an_unknown_number_gets_only_the_public_menu(db_url, rasa_server):
    [reply] = chat(db_url, "+971509999999", "hi", rasa_url=rasa_server)
    assert reply["text"] == text("greet_unknown_short", "en")
    assert {o["id"] for o in reply["options"]} == {"intent:dealership_info", "intent:human_agent"}


def test_without_the_nlu_server_the_chat_still_answers_one_json_object_per_message(db_url):
    closed = f"http://127.0.0.1:{free_port()}"
    replies = chat(db_url, AHMED, "I want to book a service", "مرحبا، عندي سؤال", rasa_url=closed)
    assert [r["text"] for r in replies] == [text("fallback_degraded", "en"), text("fallback_degraded", "ar")]
    assert all(r["options"] for r in replies)


@pytest.mark.parametrize("phone", ["hello", "123", "+97150", "", "+1 abc"])
def test_an_invalid_phone_exits_non_zero_with_a_clear_message(db_url, phone):
    done = dealerbot(db_url, "chat", "--phone", phone, "--json", stdin="hello\n")
    assert done.returncode != 0
    assert done.stdout == ""
    [message] = done.stderr.strip().splitlines()
    assert message.startswith("dealerbot: --phone: ")
    assert ("phone is empty" if not phone else f"unparseable phone {phone!r}") in message


def test_a_missing_phone_is_a_usage_error(db_url):
    done = dealerbot(db_url, "chat", "--json", stdin="hello\n")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "--phone" in done.stderr
