"""Scoring NLU predictions against gold labels: per-intent P/R/F1, macro F1, per-script accuracy,
the most confused pairs and entity F1. Pure functions; the CLI feeds them predictions from the server.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nlu.client import Parse
from nlu.trainingdata import Example

FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EntityScore:
    entity: str
    precision: float
    recall: float
    f1: float
    support: int  # gold mentions


@dataclass
class Report:
    intents: list[IntentScore]
    macro_f1: float
    accuracy: float
    by_script: dict[str, tuple[float, int]]  # script -> (accuracy, n)
    macro_f1_by_script: dict[str, float]
    # by language: english, arabizi, and all Arabic (Arabic script + Arabizi) -> (accuracy, macro F1, n)
    by_language: dict[str, tuple[float, float, int]]
    confused: list[tuple[str, str, int]]  # (gold, predicted, count)
    entity_precision: float
    entity_recall: float
    entity_f1: float
    fallback_rate: float
    n: int
    errors: list[tuple[Example, str, float]] = field(default_factory=list)
    entities: list[EntityScore] = field(default_factory=list)
    # examples whose entities were not all found or had extra ones: (example, the predicted (name, value)s)
    entity_errors: list[tuple[Example, tuple[tuple[str, str], ...]]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "macro_f1_by_script": {k: round(v, 4) for k, v in self.macro_f1_by_script.items()},
            "accuracy_by_script": {k: {"accuracy": round(a, 4), "n": n} for k, (a, n) in self.by_script.items()},
            "by_language": {
                k: {"accuracy": round(a, 4), "macro_f1": round(f, 4), "n": n} for k, (a, f, n) in self.by_language.items()
            },
            "fallback_rate": round(self.fallback_rate, 4),
            "entity_f1": round(self.entity_f1, 4),
            "entity_precision": round(self.entity_precision, 4),
            "entity_recall": round(self.entity_recall, 4),
            "entities": {
                s.entity: {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
                           "support": s.support}
                for s in self.entities
            },
            "intents": {
                s.intent: {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
                           "support": s.support}
                for s in self.intents
            },
            "most_confused": [{"gold": g, "predicted": p, "count": c} for g, p, c in self.confused],
        }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _intent_scores(pairs: list[tuple[str, str]]) -> tuple[list[IntentScore], float]:
    gold_counts = Counter(g for g, _ in pairs)
    pred_counts = Counter(p for _, p in pairs)
    hits = Counter(g for g, p in pairs if g == p)
    scores = []
    for intent in sorted(gold_counts):
        precision = hits[intent] / pred_counts[intent] if pred_counts[intent] else 0.0
        recall = hits[intent] / gold_counts[intent]
        scores.append(IntentScore(intent, precision, recall, _f1(precision, recall), gold_counts[intent]))
    macro = sum(s.f1 for s in scores) / len(scores) if scores else 0.0
    return scores, macro


def _entity_mentions(example: Example, parse: Parse) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """The (entity, value) mentions annotated and predicted for one message."""
    gold = Counter((e.name, e.value.lower()) for e in example.entities)
    predicted = Counter((e.name, e.value.lower()) for e in parse.entities)
    return gold, predicted


def score(examples: list[Example], parses: list[Parse], top_confused: int = 10) -> Report:
    """Score predictions (same order as examples). A fallback counts as a wrong intent."""
    if len(examples) != len(parses):
        raise ValueError("one prediction per example is needed")
    pairs = [(e.intent, p.intent) for e, p in zip(examples, parses, strict=True)]
    scores, macro = _intent_scores(pairs)
    correct = sum(g == p for g, p in pairs)
    by_script: dict[str, tuple[float, int]] = {}
    macro_by_script: dict[str, float] = {}
    for script in ("latin", "arabic"):
        subset = [(g, p) for (g, p), e in zip(pairs, examples, strict=True) if e.script == script]
        if subset:
            by_script[script] = (sum(g == p for g, p in subset) / len(subset), len(subset))
            macro_by_script[script] = _intent_scores(subset)[1]
    by_language: dict[str, tuple[float, float, int]] = {}
    for language, members in (("english", {"english"}), ("arabizi", {"arabizi"}), ("arabic", {"arabic", "arabizi"})):
        subset = [(g, p) for (g, p), e in zip(pairs, examples, strict=True) if e.language in members]
        if subset:
            accuracy = sum(g == p for g, p in subset) / len(subset)
            by_language[language] = (accuracy, _intent_scores(subset)[1], len(subset))
    confused = Counter((g, p) for g, p in pairs if g != p)
    tp = n_pred = n_gold = 0
    per_type: dict[str, Counter[str]] = {}
    entity_errors = []
    for example, parse in zip(examples, parses, strict=True):
        gold, predicted = _entity_mentions(example, parse)
        tp += sum((gold & predicted).values())
        n_pred += sum(predicted.values())
        n_gold += sum(gold.values())
        for kind, mentions in (("tp", gold & predicted), ("pred", predicted), ("gold", gold)):
            for (name, _), count in mentions.items():
                per_type.setdefault(name, Counter())[kind] += count
        if gold != predicted:
            entity_errors.append((example, tuple(sorted(predicted.elements()))))
    entity_scores = []
    for name in sorted(per_type):
        counts = per_type[name]
        p = counts["tp"] / counts["pred"] if counts["pred"] else 0.0
        r = counts["tp"] / counts["gold"] if counts["gold"] else 0.0
        entity_scores.append(EntityScore(name, p, r, _f1(p, r), counts["gold"]))
    ent_p = tp / n_pred if n_pred else 1.0
    ent_r = tp / n_gold if n_gold else 1.0
    errors = [(e, p.intent, p.confidence) for e, p in zip(examples, parses, strict=True) if e.intent != p.intent]
    return Report(
        intents=scores,
        macro_f1=macro,
        accuracy=correct / len(pairs) if pairs else 0.0,
        by_script=by_script,
        macro_f1_by_script=macro_by_script,
        by_language=by_language,
        confused=[(g, p, c) for (g, p), c in confused.most_common(top_confused)],
        entity_precision=ent_p,
        entity_recall=ent_r,
        entity_f1=_f1(ent_p, ent_r),
        fallback_rate=sum(p.intent == FALLBACK for p in parses) / len(parses) if parses else 0.0,
        n=len(pairs),
        errors=errors,
        entities=entity_scores,
        entity_errors=entity_errors,
    )


def render(report: Report, title: str) -> str:
    lines = [f"{title}: {report.n} examples", ""]
    lines.append(f"{'intent':<24}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for s in report.intents:
        lines.append(f"{s.intent:<24}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}{s.support:>9}")
    lines.append("")
    lines.append(f"macro F1            {report.macro_f1:.3f}")
    lines.append(f"accuracy            {report.accuracy:.3f}   (fallback on {report.fallback_rate:.1%})")
    for script, (accuracy, n) in report.by_script.items():
        label = "Arabic script" if script == "arabic" else "Latin script"
        lines.append(
            f"{label:<20}accuracy {accuracy:.3f}, macro F1 {report.macro_f1_by_script[script]:.3f} ({n} examples)"
        )
    labels = {"english": "English", "arabizi": "  of it Arabizi", "arabic": "Arabic (+Arabizi)"}
    for language in ("english", "arabic", "arabizi"):
        if language in report.by_language:
            accuracy, macro, n = report.by_language[language]
            lines.append(f"{labels[language]:<20}accuracy {accuracy:.3f}, macro F1 {macro:.3f} ({n} examples)")
    annotated = any(e.support for e in report.entities)
    if not annotated:
        # A file that annotates no entities (nlu/eval/general_assistant.yml) scores intents only.
        lines.append("entities            none annotated in this file: not scored")
    else:
        lines.append(
            f"entities            F1 {report.entity_f1:.3f} (precision {report.entity_precision:.3f}, "
            f"recall {report.entity_recall:.3f})"
        )
    for e in report.entities if annotated else []:
        lines.append(
            f"  {e.entity:<18}F1 {e.f1:.3f} (precision {e.precision:.3f}, recall {e.recall:.3f}, {e.support} in the gold)"
        )
    if report.confused:
        lines.append("")
        lines.append("most confused (gold -> predicted: count)")
        for gold, predicted, count in report.confused:
            lines.append(f"  {gold} -> {predicted}: {count}")
    return "\n".join(lines)
