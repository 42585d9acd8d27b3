"""Finding the article a car-care question asks about: BM25 (rank-bm25) over each article's title,
keywords and example questions in English, Arabic and Arabizi, on the project's text normalisation.

A question is compared with one document per article. Its tokens are `norm`ed words with the Arabic
prefixes glued to a word taken off ("والمكيف" → "مكيف") and a Latin plural "s" dropped, car names left out
(the article is about the question, not the model: the answer fits the car afterwards), plus the pairs of
neighbouring tokens ("check engine", "ضو المكينه"), so a phrase counts more than its words apart; a second
BM25 over character 4-grams of the words helps rank typos and word forms. Words that say nothing about a
topic (pronouns, "car", "please", greetings) are left out, so an off-topic question scores low.
`ANSWER_SCORE` (chosen on development data, never on the held-out questions of
tests/data/advice_heldout.yml) separates a question an article answers from one it does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from actions.advice.knowledge import Article
from actions.kit.cars import strip_names
from actions.kit.normalise import norm

# Arabic prefixes glued to a word, longest first; taken off when at least three letters remain.
_AR_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")
_STOPWORDS = frozenset(norm("""
    a an the i im i'm me my mine you your u ur it its it's is are was were be been am do does did can could
    should would will shall may might must to of in on at for from with by about as and or but if so then
    than this that these those there here what which who whom how why when where any some all just very
    really please pls plz thanks thank thx hi hello hey salam dear sir madam ok okay yes no not get got
    have has had need want wanna know tell let car cars vehicle my car our we us
    انا أنا انت انتم احنا نحن هو هي هذا هذه هذي ذا ذي اللي الي التي الذي في من على عن الى إلى مع او أو و
    ثم لو اذا إذا ان أن كيف ليش لماذا متى وين اين أين شو ايش وش ماذا هل كم عندي عندنا سيارتي السيارة سيارة
    السياره سياره ابي أبي ابغى أبغى ابغي اريد أريد ودي لو سمحت من فضلك شكرا مرحبا السلام عليكم يا الله
    ana enta inta shu sh wesh wain lesh leish kaif kef keef hal mata fi fe fel min 3ala 3an ma3 aw law
    sayara sayyara sayarti el al il wa abi abgha abga bghait areed mumkin momken
""").split())


def tokens(text: str | None) -> list[str]:
    """What retrieval compares: normalised words without glued prefixes, stopwords out, and their pairs."""
    words = []
    for word in strip_names(norm(text)).split():
        if word in _STOPWORDS:
            continue
        for prefix in _AR_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = word[len(prefix):]
                break
        if re.fullmatch(r"[a-z]{4,}s", word):
            word = word[:-1]
        if word not in _STOPWORDS:
            words.append(word)
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float  # what articles are ranked by: the word match plus GRAM_WEIGHT times the n-gram match
    words: float  # the word match alone: what decides whether the article answers at all


# A question is answered by the best article when its word match reaches this BM25 score. Chosen with
# `dealerbot advice tune` on development data (each article's example questions left out one at a time,
# and tests/data/advice_dev.yml's questions no article answers): 7.0 gave 0.75 top-1 and 0.92 honest
# answers there (6.0: 0.79 and 0.88). Never tuned on the held-out questions.
ANSWER_SCORE = 7.0
# Other articles within this share of the best score are as good a match: the customer picks.
CLOSE_SHARE = 0.85


def grams(text: str | None, n: int = 4) -> list[str]:
    """Character n-grams of each token (with word boundaries): typos, Arabizi spellings and Arabic word
    forms share most of them ("mokayef"/"mkayef", "الكفرات"/"كفرات")."""
    out = []
    for word in tokens(text):
        if "_" in word:
            continue
        padded = f"<{word}>"
        out.extend(padded[i:i + n] for i in range(max(len(padded) - n + 1, 1)))
    return out


# How much the character n-gram match counts beside the word match when ranking (0.3: best top-1 on the
# development data; the n-grams rank typos and word forms well but tell an unrelated question apart badly,
# so they never decide whether to answer).
GRAM_WEIGHT = 0.3


class Index:
    """The articles as BM25 documents, by words and by character n-grams; `search` ranks them."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = tuple(articles)
        by_words, by_grams = [], []
        for article in self.articles:
            texts = [article.title.en, article.title.ar, *article.keywords.all(), *article.keywords.all(),
                     *article.questions.all()]
            by_words.append([t for text in texts for t in tokens(text)])
            by_grams.append([g for text in texts for g in grams(text)])
        self._words = BM25Okapi(by_words)
        self._grams = BM25Okapi(by_grams)

    def search(self, question: str, limit: int = 3) -> list[Hit]:
        """The best-scoring articles for a question, best first (at most `limit`, none scoring 0)."""
        query = tokens(question)
        if not query:
            return []
        words = self._words.get_scores(query)
        scores = words + GRAM_WEIGHT * self._grams.get_scores(grams(question))
        ranked = sorted(range(len(self.articles)), key=lambda i: -scores[i])[:limit]
        return [Hit(self.articles[i], float(scores[i]), float(words[i])) for i in ranked if scores[i] > 0]


@dataclass(frozen=True)
class Finding:
    """What the knowledge base says to a question: the articles to show (best first; several when they
    match about as well, a safety one first), or none (an advisor answers)."""

    hits: tuple[Hit, ...]

    @property
    def answered(self) -> bool:
        return bool(self.hits)

    @property
    def best(self) -> Article | None:
        return self.hits[0].article if self.hits else None


def find(index: Index, question: str, answer_score: float = ANSWER_SCORE) -> Finding:
    """The articles that answer a question, or none when no article scores `answer_score`. Articles
    within CLOSE_SHARE of the best are offered together; an article that says to stop driving goes first."""
    hits = index.search(question)
    if not hits or hits[0].words < answer_score:
        return Finding(())
    close = [h for h in hits if h.score >= hits[0].score * CLOSE_SHARE]
    close.sort(key=lambda h: (h.article.safety != "stop", -h.score))
    return Finding(tuple(close))
