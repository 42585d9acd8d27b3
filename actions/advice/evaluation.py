"""How well the knowledge base finds the right article: `dealerbot advice eval [FILE]`.

The file (default tests/data/advice_heldout.yml, held out: never used to tune the articles or the
retrieval) lists `covered` questions with the topic that answers them and `uncovered` car questions no
article answers. Reported: top-1 accuracy on the covered ones (the first article shown is the right
one), how many uncovered ones get the honest "an advisor will answer", and whether every question of a
safety topic gets its safety answer first — overall and per language."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import yaml

from actions.advice.knowledge import Article
from actions.advice.retrieval import ANSWER_SCORE, STOP_SCORE, Index, find

HELDOUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "advice_heldout.yml"


@dataclass
class Score:
    right: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def add(self, ok: bool) -> None:
        self.right += int(ok)
        self.total += 1


@dataclass
class Report:
    top1: Score = field(default_factory=Score)
    honest: Score = field(default_factory=Score)
    safety_first: Score = field(default_factory=Score)
    by_language: dict[str, dict[str, Score]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Score)))
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # question, expected, got

    def as_dict(self) -> dict[str, Any]:
        return {
            "top1_accuracy": round(self.top1.rate, 3), "covered": self.top1.total,
            "honest_rate": round(self.honest.rate, 3), "uncovered": self.honest.total,
            "safety_first": f"{self.safety_first.right}/{self.safety_first.total}",
            "by_language": {lang: {k: f"{s.right}/{s.total}" for k, s in scores.items()}
                            for lang, scores in sorted(self.by_language.items())},
        }


def load(path: Path = HELDOUT) -> dict[str, list[dict[str, str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {"covered": list(data.get("covered") or []), "uncovered": list(data.get("uncovered") or [])}


def evaluate(index: Index, questions: dict[str, list[dict[str, str]]], answer_score: float = ANSWER_SCORE,
             stop_score: float = STOP_SCORE) -> Report:
    by_id = {a.id: a for a in index.articles}
    report = Report()
    for item in questions["covered"]:
        finding = find(index, item["text"], answer_score, stop_score)
        got = finding.best.id if finding.best else "(advisor)"
        ok = got == item["topic"]
        report.top1.add(ok)
        report.by_language[item.get("language", "?")]["top1"].add(ok)
        if not ok:
            report.misses.append((item["text"], item["topic"], got))
        expected = by_id.get(item["topic"])
        if expected is not None and expected.safety == "stop":
            report.safety_first.add(finding.best is not None and finding.best.safety == "stop")
    for item in questions["uncovered"]:
        finding = find(index, item["text"], answer_score, stop_score)
        ok = not finding.answered
        report.honest.add(ok)
        report.by_language[item.get("language", "?")]["honest"].add(ok)
        if not ok:
            report.misses.append((item["text"], "(advisor)", finding.best.id if finding.best else ""))
    return report


DEV = Path(__file__).resolve().parents[2] / "tests" / "data" / "advice_dev.yml"


def _positives(articles: Sequence[Article], dev: dict[str, list[dict[str, str]]],
               with_own: bool = True) -> list[tuple[str, Index, str]]:
    """(expected article, index, question): each article's own example questions with the question left out
    of its article (`with_own`), and the development set's covered questions with the full index."""
    out = []
    full = Index(articles)
    for number, article in enumerate(articles if with_own else ()):
        for language in ("en", "ar", "arabizi"):
            questions = getattr(article.questions, language)
            for i, question in enumerate(questions):
                others = tuple(q for j, q in enumerate(questions) if j != i)
                held = article.model_copy(update={"questions": article.questions.model_copy(update={language: others})})
                out.append((article.id, Index([*articles[:number], held, *articles[number + 1:]]), question))
    out.extend((item["topic"], full, item["text"]) for item in dev["covered"])
    return out


def tune(articles: Sequence[Article], dev: dict[str, list[dict[str, str]]], answer_scores: Sequence[float],
         stop_scores: Sequence[float], with_own: bool = True) -> list[dict[str, Any]]:
    """What each pair of thresholds would give on development data (never the held-out set): top-1
    accuracy on the development set's covered questions (`top1`, what the thresholds are chosen on, with
    `honest`) and on the articles' own example questions, each left out of its article in turn
    (`top1_own`: the training text itself, shown beside); safety questions of both answered with a safety
    article first; the development set's uncovered questions told honestly that an advisor will answer."""
    by_id = {a.id: a for a in articles}
    positives = _positives(articles, dev, with_own)
    own = len(positives) - len(dev["covered"])
    full = Index(articles)
    rows = []
    for answer_score in answer_scores:
        for stop_score in (s for s in stop_scores if s <= answer_score):
            right = [False] * len(positives)
            safe = stops = 0
            for n, (expected, index, question) in enumerate(positives):
                finding = find(index, question, answer_score, stop_score)
                right[n] = bool(finding.best and finding.best.id == expected)
                if by_id[expected].safety == "stop":
                    stops += 1
                    safe += bool(finding.best and finding.best.safety == "stop")
            honest = sum(1 for item in dev["uncovered"] if not find(full, item["text"], answer_score, stop_score).answered)
            rows.append({"answer_score": answer_score, "stop_score": stop_score,
                         "top1": round(sum(right[own:]) / max(len(positives) - own, 1), 3),
                         "top1_own": round(sum(right[:own]) / max(own, 1), 3),
                         "honest": round(honest / max(len(dev["uncovered"]), 1), 3), "safety_first": f"{safe}/{stops}"})
    return rows
