"""The car-care knowledge base: one article per topic in `actions/advice/articles/<id>.yml`, which the
dealership edits without reading Python (format: the module docstring of actions/advice/__init__.py).

Articles are read and checked once; a bad file is refused with its name and what is wrong, so an edit
cannot half-load the base."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from actions.warranty.rules import COMPONENTS

ARTICLES = Path(__file__).resolve().parent / "articles"
SERVICES = ("oil_change", "minor_service", "major_service", "air_conditioning", "brakes", "tyres", "battery",
            "wheel_alignment", "inspection", "diagnostics", "detailing", "car_wash")
Safety = Literal["stop", "soon", "info"]
# The workshop figures an article's answer is followed by, for the customer's own car (db ModelFigures).
Figure = Literal["tyre_pressure", "oil", "fuel"]


class Bilingual(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    ar: str = Field(min_length=1)

    def of(self, language: str) -> str:
        return self.ar if language == "ar" else self.en


class Words(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: tuple[str, ...] = ()
    ar: tuple[str, ...] = ()
    arabizi: tuple[str, ...] = ()

    def all(self) -> tuple[str, ...]:
        return (*self.en, *self.ar, *self.arabizi)


class Applies(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    make: str
    model: str | None = None
    years: tuple[int, int] | None = None

    def fits(self, make: str, model: str, year: int) -> bool:
        if make.casefold() != self.make.casefold():
            return False
        if self.model is not None and model.casefold() != self.model.casefold():
            return False
        return self.years is None or self.years[0] <= year <= self.years[1]


class Article(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: Bilingual
    applies_to: Literal["all"] | tuple[Applies, ...] = "all"
    safety: Safety
    action: str
    keywords: Words
    questions: Words
    answer: Bilingual
    # For the customer's own car, after the answer: the workshop's figures of its model, what its warranty
    # says of these components (warranty component codes), and (due) when its next service is due.
    figures: tuple[Figure, ...] = ()
    components: tuple[str, ...] = ()
    due: bool = False

    @field_validator("components")
    @classmethod
    def _components(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in COMPONENTS]
        if unknown:
            raise ValueError(f"unknown warranty component(s) {unknown}; use {', '.join(COMPONENTS)}")
        return value

    @property
    def personal(self) -> bool:
        """Whether the answer says something about the customer's own car."""
        return bool(self.figures or self.components or self.due)

    @field_validator("action")
    @classmethod
    def _action(cls, value: str) -> str:
        if value in ("roadside", "human", "none"):
            return value
        if value.startswith("book:") and value.removeprefix("book:") in SERVICES:
            return value
        raise ValueError(f"action must be roadside, human, none or book:<{'|'.join(SERVICES)}>, not {value!r}")

    def applies(self, make: str | None, model: str | None, year: int | None) -> bool:
        """Whether the article is about this car (every article about "all" cars is)."""
        if self.applies_to == "all" or make is None:
            return True
        return any(a.fits(make, model or "", year or 0) for a in self.applies_to)


class KnowledgeError(ValueError):
    """An article file that cannot be used, with its name and the reason."""


def read_articles(folder: Path = ARTICLES) -> tuple[Article, ...]:
    """Every article of the folder, checked; KnowledgeError names the first bad file."""
    articles = []
    for path in sorted(folder.glob("*.yml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            articles.append(Article(id=path.stem, **raw))
        except (yaml.YAMLError, ValidationError, TypeError) as exc:
            raise KnowledgeError(f"{path.name}: {exc}") from exc
    if not articles:
        raise KnowledgeError(f"no articles in {folder}")
    return tuple(articles)


@cache
def articles() -> tuple[Article, ...]:
    """The knowledge base, read once per process."""
    return read_articles()
