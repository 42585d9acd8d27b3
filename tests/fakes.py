"""Fakes at the outer edges for the fast tier: an NLU that classifies by keywords, no Rasa server."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from actions.kit.flows import torn_between
from nlu.client import FALLBACK_INTENT, Entity, Parse

# Whole-word keywords → intent; the first rule that matches wins.
DEFAULT_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("hello", "hi", "hey", "مرحبا", "السلام"), "greet"),
    (("thanks", "thank", "شكرا"), "thanks"),
    (("bye", "goodbye"), "goodbye"),
    (("book", "احجز", "موعد"), "book_service"),
    (("appointments", "appointment"), "check_appointment"),
    (("history",), "service_history"),
    (("hours", "branch", "address"), "dealership_info"),
    (("stuck", "breakdown", "roadside", "battery"), "roadside_assistance"),
    (("person", "human", "agent"), "human_agent"),
    (("yes", "نعم"), "affirm"),
    (("no", "لا"), "deny"),
)


@dataclass
class FakeNlu:
    """Stands in for `nlu.client.NluClient`: `parse`, `ready`, `aclose`, and what it was asked."""

    rules: tuple[tuple[tuple[str, ...], str], ...] = DEFAULT_RULES
    confidence: float = 0.95
    up: bool = True
    asked: list[str] = field(default_factory=list)

    async def parse(self, text: str) -> Parse:
        self.asked.append(text)
        words = set(text.lower().replace("?", " ").replace("!", " ").replace(",", " ").split())
        for keywords, intent in self.rules:
            if words & set(keywords):
                return Parse(intent, self.confidence, text=text)
        return Parse(FALLBACK_INTENT, 0.1, text=text)

    async def ready(self) -> bool:
        return self.up

    async def aclose(self) -> None:
        return None


# --- the NLU table of the fast tier -------------------------------------------------------------------
NLU_TABLE = Path(__file__).parent / "data" / "nlu_table.yml"


class UnknownText(LookupError):
    """A test said something the NLU table has no entry for."""


# Parts of a message that differ from run to run (a booking's random reference, a ticket's database id):
# the table keys the message with a placeholder, and the placeholder in an entity is filled back in.
_VARIABLE = (
    (re.compile(r"\b(BK)-?([A-Z0-9]{6})\b", re.IGNORECASE), "<ref>"),
    (re.compile(r"\b(WC|C)\s*-?\s*(\d{1,9})\b", re.IGNORECASE), "<n>"),
)


def template(text: str) -> str:
    """The table key of a message: its variable references as placeholders ("status of C-<n>")."""
    for pattern, placeholder in _VARIABLE:
        text = pattern.sub(lambda m: f"{m.group(1)}-{placeholder}", text)
    return text


def _variables(text: str) -> list[str]:
    found = [(m.start(), m.group(2)) for pattern, _ in _VARIABLE for m in pattern.finditer(text)]
    return [value for _, value in sorted(found)]


def _fill(text: str, values: list[str]) -> str:
    parts = re.split(r"<ref>|<n>", text)
    out = parts[0]
    for i, part in enumerate(parts[1:]):
        out += (values[i] if i < len(values) else "") + part
    return out


def _entity_from(row: dict[str, Any]) -> Entity:
    return Entity(
        name=row["name"],
        value=str(row["value"]),
        text=row.get("text", str(row["value"])),
        start=int(row.get("start", 0)),
        end=int(row.get("end", 0)),
        confidence=row.get("confidence"),
    )


def parse_from(text: str, row: dict[str, Any]) -> Parse:
    values = _variables(text)
    entities = []
    for e in row.get("entities", ()):
        entity = _entity_from(e)
        entities.append(replace(entity, value=_fill(entity.value, values), text=_fill(entity.text, values)))
    return Parse(
        intent=row["intent"],
        confidence=float(row.get("confidence", 1.0)),
        entities=tuple(entities),
        ranking=tuple((str(intent), float(confidence)) for intent, confidence in row.get("ranking", ())),
        text=text,
    )


def row_of(parse: Parse) -> dict[str, Any]:
    row: dict[str, Any] = {"intent": parse.intent, "confidence": round(parse.confidence, 3)}
    if parse.entities:
        row["entities"] = [
            {"name": e.name, "value": template(e.value), "text": template(e.text), "start": e.start, "end": e.end}
            for e in parse.entities
        ]
    if parse.ranking and (parse.intent == FALLBACK_INTENT or torn_between(parse) is not None):
        # What the model was torn between decides what is asked (actions.kit.flows.torn_between).
        ranked = [(intent, confidence) for intent, confidence in parse.ranking if intent != FALLBACK_INTENT]
        row["ranking"] = [[intent, round(confidence, 3)] for intent, confidence in ranked[:2]]
    return row


def load_table(path: Path = NLU_TABLE) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def save_table(table: dict[str, dict[str, Any]], path: Path = NLU_TABLE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# What the NLU says for each message the conversation tests send: the fake NLU of the fast tier\n"
        "# (tests/fakes.TableNlu). Edit by hand, or record from the real model: make nlu-table.\n"
    )
    body = yaml.safe_dump(dict(sorted(table.items())), allow_unicode=True, sort_keys=False, width=120)
    path.write_text(header + body, encoding="utf-8")


@dataclass
class TableNlu:
    """Stands in for `nlu.client.NluClient` with a table from text to intent, confidence and entities.

    A text the table lacks fails the test with a clear message instead of a silent fallback, so a test
    always says what the classifier is supposed to make of its messages.
    """

    table: dict[str, dict[str, Any]]
    asked: list[str] = field(default_factory=list)

    async def parse(self, text: str) -> Parse:
        self.asked.append(text)
        row = self.table.get(template(text))
        if row is None:
            raise UnknownText(
                f"the NLU table has no entry for {text!r}: add it to tests/data/nlu_table.yml"
                " or record it from the real model (make nlu-table)"
            )
        return parse_from(text, row)

    async def ready(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


@dataclass
class RecordingNlu:
    """The real NLU client, writing down what it answered into `table` (make nlu-table)."""

    inner: Any
    table: dict[str, dict[str, Any]]
    # Ask the model only for texts the table lacks (new tests), keeping what existing tests were written
    # against: `make nlu-table-missing`.
    only_missing: bool = False

    async def parse(self, text: str) -> Parse:
        row = self.table.get(template(text)) if self.only_missing else None
        if row is not None:
            return parse_from(text, row)
        parse = await self.inner.parse(text)
        if parse.degraded is None:
            self.table[template(text)] = row_of(parse)
        return parse

    async def ready(self) -> bool:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()
