"""Fakes at the outer edges for the fast tier: an NLU that classifies by keywords, no Rasa server."""

from __future__ import annotations

from dataclasses import dataclass, field

from nlu.client import FALLBACK_INTENT, Parse

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
