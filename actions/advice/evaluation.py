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
from actions.advice.retrieval import Index, find

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


def evaluate(index: Index, questions: dict[str, list[dict[str, str]]], answer_score: float | None = None) -> Report:
    kwargs = {} if answer_score is None else {"answer_score": answer_score}
    by_id = {a.id: a for a in index.articles}
    report = Report()
    for item in questions["covered"]:
        finding = find(index, item["text"], **kwargs)
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
        finding = find(index, item["text"], **kwargs)
        ok = not finding.answered
        report.honest.add(ok)
        report.by_language[item.get("language", "?")]["honest"].add(ok)
        if not ok:
            report.misses.append((item["text"], "(advisor)", finding.best.id if finding.best else ""))
    return report


DEV = Path(__file__).resolve().parents[2] / "tests" / "data" / "advice_dev.yml"


def tune(articles: Sequence[Article], dev: dict[str, list[dict[str, str]]],
         thresholds: Sequence[float]) -> list[dict[str, float]]:
    """What each answer threshold would give on development data (never the held-out set): each
    article's own example questions, one at a time left out of its article (top-1 accuracy), and the
    development set's uncovered questions (how many get the honest answer)."""
    positives: list[tuple[str, list[tuple[str, float]]]] = []  # expected id, ranked (id, score)
    for number, article in enumerate(articles):
        for language in ("en", "ar", "arabizi"):
            questions = getattr(article.questions, language)
            for i, question in enumerate(questions):
                others = tuple(q for j, q in enumerate(questions) if j != i)
                held = article.model_copy(update={"questions": article.questions.model_copy(update={language: others})})
                index = Index([*articles[:number], held, *articles[number + 1:]])
                positives.append((article.id, [(h.article.id, h.words) for h in index.search(question)]))
    full = Index(articles)
    negatives = [[(h.article.id, h.words) for h in full.search(item["text"])] for item in dev["uncovered"]]
    rows = []
    for threshold in thresholds:
        right = sum(1 for expected, ranked in positives if ranked and ranked[0][1] >= threshold and ranked[0][0] == expected)
        honest = sum(1 for ranked in negatives if not ranked or ranked[0][1] < threshold)  # (id, words score)
        rows.append({"threshold": threshold, "top1": round(right / max(len(positives), 1), 3),
                     "honest": round(honest / max(len(negatives), 1), 3)})
    return rows
