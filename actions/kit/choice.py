"""One understanding of a reply to the options offered, for every step of every flow.

A customer answers a question with options by tapping a button, or by typing: the option's number
(Western or Arabic-Indic, "option 2", "رقم ٢"), an ordinal ("the first one", "الثاني", "awwal wa7ed",
"the last one"), or words of it ("the tahoe", "abu dhabi", "pick up and drop off", "التأخير", "mumtaza"),
typos within reason. Words are matched against an option's label, its id, the words it carries
(`Option.words`: the label in the other language, a branch's city, a car's Arabic name) and the words
the dealership keeps for it in `actions/<domain>/texts/words.yml` (option id → words in any language and
Arabizi; edited without reading Python).

`choose` returns what was understood and how: by a button or number or ordinal or the whole label it is
certain; by some words of a label it is a good guess the core lets a clear new request override; when
several options fit equally well it returns them as candidates, and the core asks with those only.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from actions.kit.normalise import has_any, norm
from actions.kit.types import Option

MAX_PAYLOAD_BYTES = 64  # Telegram's limit for a button's callback data

# How sure a choice is: a button, a number, an ordinal or the whole label are certain, and so is a "yes"
# to a question with one proposal ("Shall I book it?", see bot.core); some words of a label are a guess
# (a clear new request said in the same message wins over it).
CERTAIN = ("payload", "number", "ordinal", "label", "yes")
WORDS = "words"

# Words that say nothing about which option: politeness, "I want", "the one", articles, prepositions.
_FILLERS = frozenset(
    """
    the a an one ones option options choice number no nr num please pls plz plx kindly thanks thank you thx
    i i'll ill ll id i'd im i'm me my mine want wanna would like take choose pick select prefer go with for
    to at in on of it its that this that's thats is be will do ok okay lets let's let us fine then just
    yes yeah yep sure
    el al il wa ya abi abgha abga ab8a abee bghit abi el wa7ed wahed wa7da wahda
    رقم الخيار خيار اختار اختر ابي ابغي ابغا ابى ابغى بغيت اريد أريد ودي خل خلها خله خلني اللي الي هذا هذي
    هاذا هاذي ذا ذي من في على عند لو سمحت فضلك فضلا يعطيك العافيه الله مشكور شكرا واحد واحده الواحد
    نعم ايوه اي تمام ماشي طيب يا
    """.split()
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "واحد": 1, "اثنين": 2, "اثنان": 2, "ثنين": 2, "ثلاثه": 3, "اربعه": 4, "خمسه": 5, "سته": 6,
    "wa7ed": 1, "wahed": 1, "ithnain": 2, "itnen": 2, "tnen": 2, "thnain": 2, "thalatha": 3, "talata": 3,
    "arba3a": 4, "arba3": 4, "khamsa": 5,
}
# 1-based; -1 is the last option. Arabic keys as `norm` folds them (ى → ي, ة → ه, أ → ا).
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "last": -1, "top": 1, "bottom": -1, "earliest": 1, "soonest": 1, "latest": -1, "اقرب": 1, "الاقرب": 1,
    "اسرع": 1, "ا8rab": 1, "agrab": 1, "aqrab": 1,
    "اول": 1, "الاول": 1, "الاولي": 1, "اولي": 1, "ثاني": 2, "الثاني": 2, "الثانيه": 2, "ثانيه": 2,
    "ثالث": 3, "الثالث": 3, "الثالثه": 3, "رابع": 4, "الرابع": 4, "الرابعه": 4, "خامس": 5, "الخامس": 5,
    "الخامسه": 5, "سادس": 6, "السادس": 6, "السادسه": 6, "الاخير": -1, "الاخيره": -1, "اخر": -1, "اخير": -1,
    "awwal": 1, "awal": 1, "awel": 1, "auwal": 1, "oula": 1, "thani": 2, "tani": 2, "thaani": 2, "taani": 2,
    "thanya": 2, "tanya": 2, "thalith": 3, "thaleth": 3, "talet": 3, "talit": 3, "rabi3": 4, "rabe3": 4,
    "khamis": 5, "5amis": 5, "akher": -1, "a5er": -1, "akhir": -1, "a5ir": -1, "l2akher": -1,
}
# Words that go with a number or an ordinal and say nothing more ("first one works", "the 2nd is good"); not
# fillers for matching words ("good" is a rating).
_INDEX_FILLERS = frozenset({
    "works", "work", "good", "great", "perfect", "sounds", "suits", "best", "fine", "pls", "please", "thanks",
    "time", "slot", "appointment", "مناسب", "مناسبه", "زين", "تمام", "ممتاز", "كويس", "يناسبني", "ينفع", "موعد",
    "وقت", "الموعد", "الوقت",
})
_AR_ARTICLE = re.compile(r"^(?:وال|بال|فال|لل|ال)(?=\w{2,})")
# A typed word matches a word of an option when they are this similar (rapidfuzz ratio, 0-100), both
# the longer at least _FUZZY_MIN letters: "camery"/"camry", "mussafa"/"mussafah", "delayed"/"delay".
_FUZZY = 80
_FUZZY_MIN = 4
_FUZZY_SHORTEST = 3  # "احجز"/"حجز"; never two-letter words
# The share of what the customer typed (fillers aside) that must name the option; of the options that
# reach it, the one whose words fit best (exact words over near ones) is picked, a tie asks.
_COVERAGE = 0.5


@dataclass(frozen=True)
class Choice:
    """What a reply picked: one option (and how), or several equally likely candidates, or nothing."""

    option: Option | None = None
    how: str | None = None
    candidates: tuple[Option, ...] = ()

    @property
    def certain(self) -> bool:
        return self.option is not None and self.how in CERTAIN


NOTHING = Choice()


def payload_of(option: Option) -> str:
    """What a button carries for an option: its id, or a digest of it when the id is too long."""
    if len(option.id.encode()) <= MAX_PAYLOAD_BYTES:
        return option.id
    return "h:" + hashlib.blake2b(option.id.encode(), digest_size=16).hexdigest()


def choose(options: Sequence[Option], text: str | None, payload: str | None = None) -> Choice:
    """The option a reply picks from `options` (see the module's description)."""
    if not options:
        return NOTHING
    if payload is not None:
        found = next((o for o in options if o.id == payload or payload_of(o) == payload), None)
        return Choice(found, "payload") if found else NOTHING
    said = norm(text)
    if not said:
        return NOTHING
    for option in options:
        if said in (norm(option.label), norm(option.id)):
            return Choice(option, "label")
    found = _index(said, len(options))
    if found is not None:
        index, how = found
        return Choice(options[index], how)
    return _by_words(options, said)


def _tokens(said: str) -> list[str]:
    return [_AR_ARTICLE.sub("", token) for token in said.split()]


def _index(said: str, count: int) -> tuple[int, str] | None:
    """The 0-based index a number or ordinal reply names (and which of the two), when it is all the
    reply says besides fillers."""
    words = said.split()
    if len(words) == 1 and words[0] in _NUMBER_WORDS:
        position, how = _NUMBER_WORDS[words[0]], "number"
    else:
        rest = [t for t in words if t not in _FILLERS and t not in _INDEX_FILLERS]
        if len(rest) != 1:
            return None
        token = rest[0]
        if token.isdigit() and len(token) <= 2:
            position, how = int(token), "number"
        elif token in _NUMBER_WORDS:
            position, how = _NUMBER_WORDS[token], "number"
        elif token in _ORDINALS or _AR_ARTICLE.sub("", token) in _ORDINALS:
            position, how = _ORDINALS.get(token) or _ORDINALS[_AR_ARTICLE.sub("", token)], "ordinal"
        else:
            return None
    if position == -1:
        return count - 1, how
    return (position - 1, how) if 1 <= position <= count else None


def _by_words(options: Sequence[Option], said: str) -> Choice:
    typed = [t for t in _tokens(said) if t not in _FILLERS]
    vocabularies = [_vocabulary(option) for option in options]
    if len(options) > 1:
        # A word every option has ("bk" of booking references, "toyota" of two Toyotas) tells none apart.
        typed = [t for t in typed if not all(_match(t, v) for v in vocabularies)]
    if not typed:
        return NOTHING
    joined = "".join(typed)
    scored: list[tuple[float, Option]] = []
    for option, vocabulary in zip(options, vocabularies):
        weights = [_match(token, vocabulary) for token in typed]
        matched = sum(1 for w in weights if w)
        score = sum(weights)
        phrases = _phrases(option)
        if matched < len(typed) and len(joined) >= _FUZZY_MIN and not any(c.isdigit() for c in joined):
            if any(joined in phrase for phrase in phrases):  # "abudhabi", "landcruiser", "pickup"
                matched, score = len(typed), float(len(typed))
        if joined in phrases:
            score += 0.5  # the whole of one of its names ("zain" is rating 4 even though "mo zain" is 2)
        if matched / len(typed) >= _COVERAGE:
            scored.append((score, option))
    if not scored:
        return NOTHING
    best = max(score for score, _ in scored)
    top = tuple(option for score, option in scored if score == best)
    return Choice(top[0], WORDS) if len(top) == 1 else Choice(candidates=top)


def _match(token: str, vocabulary: frozenset[str]) -> float:
    """1 for a word of the option, 0.8 for a near one (a typo, a shortening, another form), else 0."""
    if token in vocabulary:
        return 1.0
    if len(token) < _FUZZY_SHORTEST or any(c.isdigit() for c in token):
        return 0.0  # numbers (a plate, a reading, a year) match exactly or not at all
    for word in vocabulary:
        if len(word) < _FUZZY_SHORTEST or max(len(word), len(token)) < _FUZZY_MIN or any(c.isdigit() for c in word):
            continue
        if (len(token) >= _FUZZY_MIN and word.startswith(token)) or fuzz.ratio(token, word) >= _FUZZY:
            return 0.8
    return 0.0


def _names(option: Option) -> list[str]:
    value = option.id.split(":", 1)[-1].replace("_", " ")
    return [option.label, value, *option.words, *words_of(option.id)]


def _vocabulary(option: Option) -> frozenset[str]:
    return frozenset(t for name in _names(option) for t in _tokens(norm(name)) if t not in _FILLERS)


def _phrases(option: Option) -> list[str]:
    return ["".join(_tokens(norm(name))) for name in _names(option)]


# --- the dealership's words for options (actions/<domain>/texts/words.yml) -------------------------------

_ROOT = Path(__file__).resolve().parents[2]
_lock = threading.Lock()


@cache
def _words_table() -> dict[str, tuple[str, ...]]:
    with _lock:
        table: dict[str, tuple[str, ...]] = {}
        for path in sorted(_ROOT.glob("actions/*/texts/words.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for option_id, words in data.items():
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    raise ValueError(f"{path}: {option_id} must list words")
                table[str(option_id)] = table.get(str(option_id), ()) + tuple(words)
        return table


def words_of(option_id: str) -> tuple[str, ...]:
    """The words kept for an option id in the words files (e.g. "category:delay" → late, تأخير, ...)."""
    return _words_table().get(option_id, ())


def most_named(said: str | None, option_ids: Iterable[str]) -> str | None:
    """The one option id the message names most specifically: of those named, the one with the longest
    matching words ("فحص البطارية" is the battery check, not the multi-point check named by "فحص"), or
    None when none is named or two tie."""
    folded = norm(said)
    lengths: dict[str, int] = {}
    for option_id in option_ids:
        found = [len(norm(w)) for w in words_of(option_id) if has_any(folded, (w,))]
        if found:
            lengths[option_id] = max(found)
    if not lengths:
        return None
    best = max(lengths.values())
    winners = [option_id for option_id, length in lengths.items() if length == best]
    return winners[0] if len(winners) == 1 else None


def named_in(said: str | None, option_ids: Iterable[str]) -> list[str]:
    """The option ids, in the order given, whose words the message contains (whole words, Arabic
    prefixes allowed): what a whole sentence names, not an answer to options ("mobile oil change at my
    villa" → extra:mobile)."""
    folded = norm(said)
    return [option_id for option_id in option_ids if has_any(folded, words_of(option_id))]
