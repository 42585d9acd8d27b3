"""One annotation convention for the training data: every mention of a value customers write (a surface
in synonyms.yml: "sharja", "الكفرات", "tawayer") is annotated as an entity, whatever the intent.

A CRF learns from what is annotated and from what is not: "engine" annotated in one complaint and left
bare in a car-care question teaches it that the same word is and is not a component, and the same holds
for a place named in a request we cannot serve ("weather in Dubai"). `unannotated_mentions` finds the
mentions left bare; tests/test_nlu_evaluation.py keeps nlu/data/ free of them. Which entity a mention is
follows the examples: the entity this intent's examples use for that value most, else the data's.

Words that name a value only in some uses are not checked: "oil" (burning oil, oil stains; in a service
request it is the oil change), "cooling" (the AC is not cooling), generic service and maintenance words,
landmarks that are also areas ("marina"), words like "screen", "body", "door", "light".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from nlu.trainingdata import _ANNOTATION, Example

AMBIGUOUS = frozenset({
    "oil", "زيت", "الزيت", "zeit", "zait", "cooling", "تبريد", "التبريد", "صيانة", "الصيانة", "syana", "siyana",
    "service", "servicing", "maintenance", "marina", "check", "wash", "gear", "paint", "glass", "door", "light",
    "lights", "screen", "الشاشة", "شاشة", "body",
})
# In these intents "oil" is the service asked for (an oil change), so it is annotated there.
SERVICE_INTENTS = frozenset({"book_service", "reschedule_appointment", "cancel_appointment", "check_appointment",
                             "maintenance_due", "service_history"})
SERVICE_WORDS = frozenset({"oil", "زيت", "الزيت", "zeit", "zait"})


@dataclass(frozen=True)
class Mention:
    example: Example
    surface: str
    entity: str
    value: str
    start: int  # in the raw line
    end: int


class Convention:
    def __init__(self, examples: list[Example], synonyms: dict[str, str]) -> None:
        self.synonyms = synonyms
        self.overall: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_intent: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for example in examples:
            for entity in example.entities:
                self.overall[entity.value.lower()][entity.name] += 1
                self.by_intent[(example.intent, entity.value.lower())][entity.name] += 1
        checked = [s for s in synonyms if len(s) >= 3 and synonyms[s].lower() in self.overall and s not in AMBIGUOUS]
        self.pattern = _words(checked)
        self.service_pattern = _words([s for s in SERVICE_WORDS if s in synonyms])

    def entity_for(self, intent: str, value: str) -> str:
        counts = self.by_intent.get((intent, value.lower())) or self.overall[value.lower()]
        return counts.most_common(1)[0][0]

    def mentions(self, example: Example) -> list[Mention]:
        """The mentions of known values in an example's raw line that no annotation covers."""
        taken = [(m.start(), m.end()) for m in _ANNOTATION.finditer(example.raw)]
        found: list[Mention] = []
        patterns = [self.pattern] + ([self.service_pattern] if example.intent in SERVICE_INTENTS else [])
        for pattern in patterns:
            if pattern is None:
                continue
            for match in pattern.finditer(example.raw):
                span = (match.start(1), match.end(1))
                if any(a < span[1] and span[0] < b for a, b in taken):
                    continue
                value = self.synonyms[match.group(1).lower()]
                found.append(Mention(example, match.group(1), self.entity_for(example.intent, value), value, *span))
                taken.append(span)
        return sorted(found, key=lambda m: m.start)


def _words(surfaces: list[str]) -> re.Pattern[str] | None:
    if not surfaces:
        return None
    ordered = sorted(surfaces, key=len, reverse=True)  # "tyre rotation" before "tyre"
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in ordered) + r")(?!\w)", re.IGNORECASE)


def annotated(mentions: list[Mention]) -> str:
    """The example's raw line with these mentions annotated (all of one example, from `mentions`)."""
    raw = mentions[0].example.raw
    out, cursor = [], 0
    for m in mentions:
        out.append(raw[cursor:m.start])
        if m.surface == m.value:
            out.append(f"[{m.surface}]({m.entity})")
        else:
            out.append(f'[{m.surface}]{{"entity": "{m.entity}", "value": "{m.value}"}}')
        cursor = m.end
    out.append(raw[cursor:])
    return "".join(out)
