"""The scenario set (tests/scenarios/*.yml, format in tests/scripted.py): realistic multi-turn conversations
in English, Arabic and Arabizi over every capability, played through the real core on the demo database.

Twice: in the fast tier with the NLU table (recorded from the real model, both databases), and against the
real Rasa server (SQLite), which is what the README's count of conversations completed without the
customer repeating themselves is measured on."""

from __future__ import annotations

import re

import pytest

from tests.scripted import load_scenarios, play

SCENARIOS = load_scenarios()
IDS = [s.name for s in SCENARIOS]

# What a customer can do here (../shared/DESIGN.md): the set has conversations for each.
CAPABILITIES = {
    "booking", "reschedule", "cancel", "appointments", "warranty", "warranty_claim", "complaint", "case_status",
    "history", "inspection", "recall", "maintenance", "mileage", "tradein", "finance", "parts", "roadside",
    "branches", "handoff", "feedback", "consent", "detour",
}
ARABIZI = re.compile(r"\b\w*[2375]\w*[a-z]\w*\b|\b(?:abi|abgha|ana|ba3d|bukra|yom|wayed|mashkora|3ndi)\b", re.I)


def test_the_set_is_broad_enough() -> None:
    """At least 30 conversations, both languages, Arabizi, and every capability."""
    assert len(SCENARIOS) >= 30
    languages = {s.language for s in SCENARIOS}
    assert languages == {"en", "ar"}
    arabizi = [s for s in SCENARIOS if s.language == "ar" and any(
        ARABIZI.search(str(t.get("say", ""))) and not re.search(r"[\u0600-\u06ff]", str(t.get("say", "")))
        for t in s.turns)]
    assert len(arabizi) >= 3, "at least three conversations written in Arabizi"
    missing = CAPABILITIES - {s.capability for s in SCENARIOS}
    assert not missing, f"no scenario for {sorted(missing)}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_scenario(scenario, chat) -> None:
    play(scenario, chat(scenario.phone, channel=scenario.channel))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_scenario_with_the_real_model(scenario, rasa_chat) -> None:
    play(scenario, rasa_chat(scenario.phone, channel=scenario.channel))
