"""Reading and writing Rasa's YAML NLU format without Rasa: examples with their annotated entities.

Used by evaluation (gold labels) and cross-validation (writing each fold's training files).
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# [text](entity) or [text]{"entity": "...", "value": "..."}; the text may not contain brackets.
_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^{}]+\}))")
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
# Arabizi (Arabic in Latin letters): a digit standing for an Arabic letter inside or at the start of a
# word (a7jiz, sa3a, 5alas, 3indi; not 2nd, 9am, rav4, x5), or a common Gulf word. A heuristic for
# reporting scores by language, not for classifying messages.
_ARABIZI = re.compile(
    r"(?i)\b[a-z]+[2-9]+[a-z]\w*|\b[2-9](?!(?:nd|rd|th|st|am|pm|km|hrs?|ish)\b)[a-z]{2,}"
    r"|\b(?:abi|abgha|ab8a|abga|abee|shu|shlon|wain|wein|inshallah|yalla|mashallah|mafi|enta|inta|sayara"
    r"|sayyara|sayarti|mawid|mumkin|momken|ya3ni|zain|zein|wayed|wajid|khalas|bachir|baachir|bukra"
    r"|shukran|shokran|mashkoor|mashkoora|mashkooreen|mashkoorin|mashkur|mashkura|marhaba|ahlan|akhi|ukhti"
    r"|tamam|el|3ala|ma3|ba3d|3indi|3indkum|ana|habibi|habibti|salam|salamat|wallah|walla|ya3tik|ya3teek"
    r"|ma3a|assalamu|alaikum|3afia|aafia|asli|wakala)\b"
)


def looks_arabizi(text: str) -> bool:
    """Whether Latin-letter text reads as Arabizi (see _ARABIZI): for reporting scores by language, and
    so that an Arabizi message does not switch a customer's language to English (bot.language)."""
    return bool(_ARABIZI.search(text)) and not _ARABIC.search(text)


@dataclass(frozen=True)
class GoldEntity:
    name: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[GoldEntity, ...]
    raw: str  # the annotated line as written, to write training files back

    @property
    def script(self) -> str:
        """'arabic' when the text has Arabic script, else 'latin' (English and Arabizi)."""
        return "arabic" if _ARABIC.search(self.text) else "latin"

    @property
    def language(self) -> str:
        """'english', 'arabizi' (Arabic in Latin letters, by spelling) or 'arabic' (Arabic script)."""
        if self.script == "arabic":
            return "arabic"
        return "arabizi" if looks_arabizi(self.text) else "english"


def parse_annotated(raw: str, synonyms: dict[str, str] | None = None) -> tuple[str, tuple[GoldEntity, ...]]:
    """'book [AC](service_type)' -> ('book AC', (GoldEntity('service_type', 'AC', 5, 7),))."""
    text_parts: list[str] = []
    entities: list[GoldEntity] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[cursor : match.start()]
        text_parts.append(before)
        length += len(before)
        surface = match.group("text")
        if match.group("name"):
            name, value = match.group("name"), surface
            if "." in name:  # [x](entity.role) is not used here; keep the entity part
                name = name.split(".", 1)[0]
        else:
            spec: dict[str, Any] = json.loads(match.group("json"))
            name, value = str(spec["entity"]), str(spec.get("value", surface))
        if synonyms and value == surface:
            value = synonyms.get(surface.lower(), value)
        entities.append(GoldEntity(name, value, length, length + len(surface)))
        text_parts.append(surface)
        length += len(surface)
        cursor = match.end()
    text_parts.append(raw[cursor:])
    return "".join(text_parts), tuple(entities)


@dataclass
class NluData:
    examples: list[Example]
    other_sections: list[dict[str, Any]]  # synonyms, regexes, lookups: copied into every fold

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})


def _example_lines(block: Any) -> list[str]:
    if isinstance(block, list):
        return [str(item) for item in block]
    lines = []
    for line in str(block or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            lines.append(stripped[2:].strip())
        elif stripped == "-":
            continue
    return lines


def load(paths: list[Path] | Path) -> NluData:
    files = [paths] if isinstance(paths, Path) else paths
    expanded: list[Path] = []
    for path in files:
        # a directory is read recursively (nlu/data/intents/...), its files in sorted path order
        expanded.extend(sorted(path.rglob("*.yml")) if path.is_dir() else [path])
    sections: list[dict[str, Any]] = []
    for path in expanded:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        sections.extend(document.get("nlu") or [])
    synonyms = _synonyms(sections)
    examples: list[Example] = []
    others: list[dict[str, Any]] = []
    for section in sections:
        if "intent" not in section:
            others.append(section)
            continue
        intent = str(section["intent"])
        for raw in _example_lines(section.get("examples")):
            text, entities = parse_annotated(raw, synonyms)
            examples.append(Example(text, intent, entities, raw))
    return NluData(examples, others)


def _synonyms(sections: list[dict[str, Any]]) -> dict[str, str]:
    """What customers write (lower case) -> the value it stands for, from the synonym sections."""
    synonyms: dict[str, str] = {}
    for section in sections:
        if "synonym" in section:
            for surface in _example_lines(section.get("examples")):
                synonyms[surface.lower()] = str(section["synonym"])
    return synonyms


DERIVED_SUFFIX = "_words"


def entity_lookups(examples: list[Example], synonyms: dict[str, str]) -> list[dict[str, Any]]:
    """A lookup table per entity from the synonyms: every way customers write a value the examples
    annotate as that entity ("sharja", "الشارقة", "shj" for a branch; "tawayer", "الكفرات" for tyres, both
    a component and a service type). Rasa's RegexFeaturizer marks the tokens a table matches, and the CRF
    reads that mark beside the word itself: a place or part written in a context no example has is still
    recognised. Derived, not written by hand, so synonyms.yml stays the one list; a value no example
    annotates gives no table. Named `<entity>_words` (features only; no extractor reads lookup tables).
    Written with each training file (write), from the examples it holds: a cross-validation fold's
    tables know only its own training examples' annotations."""
    if not synonyms:
        return []
    entities_of: dict[str, set[str]] = defaultdict(set)
    for example in examples:
        for entity in example.entities:
            entities_of[entity.value.lower()].add(entity.name)
    surfaces: dict[str, set[str]] = defaultdict(set)
    for surface, value in synonyms.items():
        for name in entities_of.get(value.lower(), ()):
            surfaces[name].update({surface, value.lower().replace("_", " ").replace("-", " ")})
    return [
        {"lookup": f"{name}{DERIVED_SUFFIX}", "examples": "".join(f"- {surface}\n" for surface in sorted(words))}
        for name, words in sorted(surfaces.items())
    ]


def write(path: Path, examples: list[Example], other_sections: list[dict[str, Any]]) -> None:
    """Write examples (and the synonym/regex/lookup sections) as one Rasa NLU YAML file, with the lookup
    tables derived from these examples and the synonyms (entity_lookups; a `*_words` table read back
    from a file written here is replaced, not repeated)."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example.raw)
    sections: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {raw}\n" for raw in raws)} for intent, raws in by_intent.items()
    ]
    kept = [s for s in other_sections if not str(s.get("lookup", "")).endswith(DERIVED_SUFFIX)]
    sections.extend(kept)
    sections.extend(entity_lookups(examples, _synonyms(kept)))
    path.write_text(
        yaml.safe_dump({"version": "3.1", "nlu": sections}, allow_unicode=True, sort_keys=False, width=10_000),
        encoding="utf-8",
    )


def stratified_folds(examples: list[Example], k: int, seed: int = 13) -> list[list[Example]]:
    """Split into k folds with each intent spread evenly; deterministic for a seed."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    rng = random.Random(seed)
    folds: list[list[Example]] = [[] for _ in range(k)]
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    offset = 0
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        for i, example in enumerate(group):
            folds[(i + offset) % k].append(example)
        offset += len(group)
    return folds
