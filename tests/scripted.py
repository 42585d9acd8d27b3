"""Scenario conversations written as data (tests/scenarios/*.yml) and the runner that plays them.

Each file holds a list of conversations a real customer could have on WhatsApp or Telegram: typos, several
facts in one message, answers in words, changes of mind, English, Gulf and formal Arabic, Arabizi. One
conversation:

    - name: mobile oil change named up front            # unique, used as the test id
      customer: ahmed                                   # ahmed | fatima | a phone number (unknown sender)
      language: en                                      # en | ar: every reply must be in it
      capability: booking                               # what it exercises (for the README's count)
      turns:
        - say: mobile oil change at my villa for the lexus tomorrow evening
          asks: appt_ask_pickup_address                 # a reply of this turn is this catalog text
          offers: slot                                  # the options offered start with this id prefix
          has: [Villa 12]                               # each appears in the replies (any one of a list
          lacks: [Which car]                            #   of lists: `has: [[a, b]]` means a or b)
          retry: true                                   # the customer had to say it again (counted)
          clarify: true                                 # the bot asked back, as a person might (counted)
        - payload: "yes"                                # a button press instead of text
      creates:                                          # rows the conversation wrote, one per table
        appointments: {service: oil_change, vehicle: ES, mobile_service: true, weekday: Fri}
      creates_none: [complaints]                        # tables the conversation must not write to
      customer_after: {preferred_language: ar}

Every turn is also checked for the failure customers hate most: the bot answering with exactly the same
text as before (a step asking its question again). A turn marked `retry` is where the script itself has the
customer repeat or rephrase; the README counts the conversations that complete with none.

Derived fields of created rows: `vehicle` (model), `make`, `service` (service type code), `branch` (branch
code), `day` (local ISO date), `time` (local HH:MM), `weekday` (Mon..Sun), `details.<key>` of a lead. A
string value starting with `~` means "contains" (case-insensitive); other values compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select

from actions.kit.catalog import catalog
from db.models import Base, Branch, Customer, ServiceType, Vehicle

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
CUSTOMERS = {"ahmed": "+971501234567", "fatima": "+971552345678"}
DUBAI = ZoneInfo("Asia/Dubai")
TURN_KEYS = {"say", "payload", "asks", "offers", "has", "lacks", "retry", "clarify", "note", "silent"}
SCENARIO_KEYS = {"name", "customer", "language", "capability", "turns", "creates", "creates_none",
                 "customer_after", "channel", "note"}
TABLES = ("appointments", "complaints", "warranty_claims", "leads", "feedback", "handoffs",
          "mileage_readings", "upgrade_wishes", "case_notes", "recall_completions")


@dataclass(frozen=True)
class Scenario:
    name: str
    phone: str
    language: str
    capability: str
    turns: list[dict[str, Any]]
    creates: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates_none: list[str] = field(default_factory=list)
    customer_after: dict[str, Any] = field(default_factory=dict)
    channel: str = "whatsapp"
    source: str = ""

    @property
    def retries(self) -> int:
        return sum(1 for turn in self.turns if turn.get("retry"))

    @property
    def clarifications(self) -> int:
        return sum(1 for turn in self.turns if turn.get("clarify"))


def load_scenarios(folder: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every conversation of every file, checked for shape (a typo in a key must not pass silently)."""
    scenarios: list[Scenario] = []
    for path in sorted(folder.glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            where = f"{path.name}: {raw.get('name', '?')}"
            unknown = set(raw) - SCENARIO_KEYS
            assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
            assert raw.get("language") in {"en", "ar"}, f"{where}: language must be en or ar"
            for turn in raw["turns"]:
                unknown = set(turn) - TURN_KEYS
                assert not unknown, f"{where}: unknown turn keys {sorted(unknown)}"
                assert "say" in turn or "payload" in turn, f"{where}: a turn says something"
            for table in [*raw.get("creates", {}), *raw.get("creates_none", [])]:
                assert table in TABLES, f"{where}: unknown table {table}"
            customer = str(raw["customer"])
            scenarios.append(Scenario(
                name=raw["name"], phone=CUSTOMERS.get(customer, customer), language=raw["language"],
                capability=raw.get("capability", "other"), turns=raw["turns"], creates=raw.get("creates", {}),
                creates_none=raw.get("creates_none", []), customer_after=raw.get("customer_after", {}),
                channel=raw.get("channel", "whatsapp"), source=path.name,
            ))
    names = [s.name for s in scenarios]
    assert len(names) == len(set(names)), "scenario names must be unique"
    return scenarios


@cache
def _patterns(key: str) -> tuple[re.Pattern[str], ...]:
    """A catalog text as regular expressions (one per language and plural form), placeholders as wildcards."""
    entry = catalog()[key]
    texts: list[str] = []
    for value in entry.values():
        texts.extend(value.values() if isinstance(value, dict) else [value])
    patterns = []
    for template in texts:
        parts = re.split(r"\{[^{}]*\}", template)
        patterns.append(re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL))
    return tuple(patterns)


def said(key: str, reply_text: str) -> bool:
    """Whether a reply is the catalog text `key` (with any values in its placeholders)."""
    return any(p.match(reply_text) for p in _patterns(key))


def is_arabic(text: str) -> bool:
    """Whether a reply is in Arabic: links and the cars' Latin names aside, most of its letters are."""
    text = re.sub(r"https?://\S+", " ", text)
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff")
    return bool(letters) and arabic / len(letters) > 0.3


def _expect_any(value: Any) -> list[list[str]]:
    """`has: [a, b]` → each of a, b; `has: [[a, b]]` → a or b."""
    items = value if isinstance(value, list) else [value]
    return [item if isinstance(item, list) else [item] for item in items]


def _joined(replies: list[Any]) -> str:
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts.extend(o.label for o in reply.options)
    return "\n".join(parts)


def check_turn(scenario: Scenario, index: int, turn: dict[str, Any], replies: list[Any], before: list[Any]) -> None:
    said_text = turn.get("say", turn.get("payload"))
    where = f"{scenario.name}, turn {index + 1} ({said_text!r})"
    shown = _joined(replies)
    if turn.get("silent"):
        assert not replies, f"{where}: expected no reply, got:\n{shown}"
        return
    assert replies, f"{where}: no reply"
    for reply in replies:
        expected_arabic = scenario.language == "ar"
        assert is_arabic(reply.text) == expected_arabic, f"{where}: a reply not in {scenario.language}:\n{reply.text}"
    if before and not turn.get("retry"):
        assert [r.text for r in replies] != [r.text for r in before], f"{where}: the bot said the same again:\n{shown}"
    if "asks" in turn:
        keys = turn["asks"] if isinstance(turn["asks"], list) else [turn["asks"]]
        assert any(said(key, r.text) for key in keys for r in replies), f"{where}: expected {keys}, got:\n{shown}"
    if "offers" in turn:
        options = [o.id for o in replies[-1].options]
        assert options and all(o.startswith(turn["offers"]) for o in options[:1]), (
            f"{where}: expected options {turn['offers']}*, got {options}:\n{shown}")
    folded = shown.casefold()
    for alternatives in _expect_any(turn.get("has", [])):
        assert any(str(a).casefold() in folded for a in alternatives), f"{where}: expected {alternatives} in:\n{shown}"
    for unwanted in turn.get("lacks", []):
        assert str(unwanted).casefold() not in folded, f"{where}: did not expect {unwanted!r} in:\n{shown}"


def high_water(session: Any) -> dict[str, int]:
    """The highest id of each table before the conversation: rows above it are what it created."""
    marks = {}
    for name in TABLES:
        table = Base.metadata.tables[name]
        marks[name] = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return marks


def _derived(session: Any, row: dict[str, Any]) -> dict[str, Any]:
    values = dict(row)
    if row.get("vehicle_id"):
        vehicle = session.get(Vehicle, row["vehicle_id"])
        values.update(vehicle=vehicle.model, make=vehicle.make)
    if row.get("service_type_id"):
        values["service"] = session.get(ServiceType, row["service_type_id"]).code
    if row.get("branch_id"):
        values["branch"] = session.get(Branch, row["branch_id"]).code
    if row.get("starts_at"):
        at = row["starts_at"]
        local = (at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC"))).astimezone(DUBAI)
        values.update(day=local.date().isoformat(), time=local.strftime("%H:%M"), weekday=local.strftime("%a"))
    for key, value in (row.get("details") or {}).items():
        values[f"details.{key}"] = value
    return values


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and expected.startswith("~"):
        return expected[1:].casefold() in str(actual).casefold()
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and actual is not None:
        try:
            return float(actual) == float(expected)
        except (TypeError, ValueError):
            return False
    return expected == actual


def check_outcome(scenario: Scenario, session: Any, marks: dict[str, int]) -> None:
    for name in {*scenario.creates, *scenario.creates_none}:
        table = Base.metadata.tables[name]
        rows = [dict(r._mapping) for r in session.execute(select(table).where(table.c.id > marks[name]))]
        if name in scenario.creates_none:
            assert not rows, f"{scenario.name}: expected no new {name}, got {rows}"
            continue
        assert len(rows) == 1, f"{scenario.name}: expected one new row in {name}, got {len(rows)}: {rows}"
        values = _derived(session, rows[0])
        for key, expected in scenario.creates[name].items():
            assert key in values, f"{scenario.name}: {name} has no field {key} ({sorted(values)})"
            assert _matches(expected, values[key]), f"{scenario.name}: {name}.{key} is {values[key]!r}, expected {expected!r}"
    if scenario.customer_after:
        customer = session.scalars(select(Customer).where(Customer.phone == scenario.phone)).one()
        for key, expected in scenario.customer_after.items():
            assert _matches(expected, getattr(customer, key)), f"{scenario.name}: customer.{key} is {getattr(customer, key)!r}"


def play(scenario: Scenario, conversation: Any) -> None:
    """Play a scenario on a tests.scenario.Conversation and check every turn and what it wrote."""
    app = conversation.app
    with app.transaction() as session:
        marks = high_water(session)
    before: list[Any] = []
    for index, turn in enumerate(scenario.turns):
        if "payload" in turn:
            replies = conversation.say(turn.get("say", ""), payload=str(turn["payload"]))
        else:
            replies = conversation.say(str(turn["say"]))
        check_turn(scenario, index, turn, replies, before)
        before = replies
    with app.transaction() as session:
        check_outcome(scenario, session, marks)


# --- playing a folder outside pytest: `python -m tests.scripted [folder] [--rasa URL]` -----------------------


def _report(folder: Path, rasa_url: str) -> int:
    """Play every scenario of a folder against a running Rasa server on a fresh demo database (each
    conversation rolled back) and print which pass, and the counts the README reports."""
    import tempfile
    import traceback

    from sqlalchemy.orm import Session, sessionmaker

    from db import migrate
    from db.demo import seed_demo
    from db.engine import make_engine
    from dealerbot.bootstrap import App
    from dealerbot.clock import FixedClock
    from dealerbot.settings import load_settings
    from nlu.client import NluClient
    from tests.conftest import TEST_NOW
    from tests.scenario import Conversation

    scenarios = load_scenarios(folder)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.sqlite3"
        engine = make_engine(url)
        migrate.upgrade(engine)
        with Session(engine) as session, session.begin():
            seed_demo(session, TEST_NOW)
        passed: list[Scenario] = []
        for scenario in scenarios:
            connection = engine.connect()
            outer = connection.begin()
            sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
            app = App(settings=load_settings(database_url=url), engine=engine, sessions=sessions,
                      clock=FixedClock(TEST_NOW))
            try:
                play(scenario, Conversation(app, lambda: NluClient(rasa_url, timeout=20), scenario.phone,
                                            scenario.channel))
                passed.append(scenario)
                print(f"pass  {scenario.name}")
            except AssertionError as exc:
                print(f"FAIL  {scenario.name}: {str(exc).splitlines()[0]}")
            except Exception:  # noqa: BLE001 - a crash is a failure of that conversation, reported with its trace
                print(f"ERROR {scenario.name}:\n{traceback.format_exc()}")
            finally:
                outer.rollback()
                connection.close()
        engine.dispose()
    clean = [s for s in passed if not s.retries]
    print(f"\n{len(passed)} of {len(scenarios)} conversations pass; {len(clean)} complete without the customer "
          f"repeating themselves; {sum(1 for s in passed if s.clarifications)} with a question asked back.")
    return 0 if len(passed) == len(scenarios) else 1


if __name__ == "__main__":
    import argparse
    import os

    parser = argparse.ArgumentParser(description=_report.__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=SCENARIO_DIR)
    parser.add_argument("--rasa", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args()
    raise SystemExit(_report(args.folder, args.rasa))
