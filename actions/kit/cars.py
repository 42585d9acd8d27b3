"""Which make and model a message names: the cars customers write about, in Latin and Arabic script."""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import select

from actions.kit.normalise import AR_PREFIX, norm, word_re
from db.models import StockVehicle, Vehicle

# make → (aliases, {model: aliases}): what customers call the cars, Latin and Arabic script. The
# database's own makes and models are added at run time (see aliases()).
CARS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "Toyota": (("toyota", "تويوتا"), {
        "Land Cruiser": ("land cruiser", "landcruiser", "cruiser", "lc", "lc200", "lc300", "كروزر", "لاند كروزر",
                         "لاندكروزر", "لاند كروزار", "لاندكروز", "لاندكلوزر"),
        "Prado": ("prado", "برادو"),
        "Camry": ("camry", "كامري"),
        "Corolla": ("corolla", "كورولا"),
        "Hilux": ("hilux", "هايلكس", "هايلوكس"),
        "Fortuner": ("fortuner", "فورتشنر", "فورتونر"),
        "Yaris": ("yaris", "يارس"),
        "RAV4": ("rav4", "rav 4", "راف فور"),
    }),
    "Nissan": (("nissan", "نيسان"), {
        "Patrol": ("patrol", "باترول", "y62"),
        "Altima": ("altima", "التيما", "ألتيما"),
        "Sunny": ("sunny", "صني"),
        "X-Trail": ("x trail", "xtrail", "اكس تريل", "إكس تريل"),
        "Pathfinder": ("pathfinder", "باثفايندر"),
    }),
    "Lexus": (("lexus", "لكزس", "لكسس", "لكزز"), {
        "LX": ("lx", "lx570", "lx600", "ال اكس"),
        "ES": ("es", "es350", "اي اس"),
        "RX": ("rx", "rx350", "ار اكس"),
    }),
    "Mitsubishi": (("mitsubishi", "ميتسوبيشي", "متسوبيشي"), {
        "Pajero": ("pajero", "باجيرو", "باجيرو", "بيجيرو"),
        "Lancer": ("lancer", "لانسر"),
    }),
    "Hyundai": (("hyundai", "هيونداي", "هونداي"), {
        "Tucson": ("tucson", "توسان"),
        "Elantra": ("elantra", "النترا", "إلنترا"),
        "Sonata": ("sonata", "سوناتا"),
        "Accent": ("accent", "اكسنت", "أكسنت"),
    }),
    "Kia": (("kia", "كيا"), {
        "Sportage": ("sportage", "سبورتاج"),
        "Sorento": ("sorento", "سورينتو"),
    }),
    "Honda": (("honda", "هوندا"), {
        "Accord": ("accord", "اكورد", "أكورد"),
        "Civic": ("civic", "سيفيك"),
    }),
    "Ford": (("ford", "فورد"), {
        "Explorer": ("explorer", "اكسبلورر", "إكسبلورر"),
        "Edge": ("edge", "ايدج"),
    }),
    "Chevrolet": (("chevrolet", "chevy", "شفروليه", "شيفروليه", "شفرليه", "شفر"), {
        "Tahoe": ("tahoe", "تاهو"),
        "Silverado": ("silverado", "سلفرادو", "سيلفرادو"),
    }),
    "GMC": (("gmc", "جي ام سي", "جمس"), {
        "Yukon": ("yukon", "يوكن", "يوكون"),
    }),
    "Mercedes-Benz": (("mercedes benz", "mercedes", "benz", "مرسيدس", "بنز"), {
        "C-Class": ("c class", "c200", "c300", "سي كلاس"),
        "E-Class": ("e class", "e200", "e300", "اي كلاس"),
        "GLE": ("gle", "جي ال اي"),
    }),
    "BMW": (("bmw", "بي ام دبليو", "بي ام"), {
        "3 Series": ("3 series", "الفئة الثالثة"),
        "X5": ("x5", "اكس 5", "اكس فايف"),
    }),
    "Land Rover": (("land rover", "لاند روفر", "لاندروفر"), {
        "Range Rover": ("range rover", "رنج روفر", "رينج روفر", "رنج"),
        "Defender": ("defender", "ديفندر"),
    }),
    "Audi": (("audi", "اودي", "أودي"), {}),
    "Porsche": (("porsche", "بورش"), {}),
    "Volkswagen": (("volkswagen", "vw", "فولكس واجن"), {}),
    "Infiniti": (("infiniti", "انفينيتي"), {}),
    "Jeep": (("jeep", "جيب"), {}),
    "Dodge": (("dodge", "دودج"), {}),
    "Mazda": (("mazda", "مازدا"), {}),
    "Renault": (("renault", "رينو"), {}),
    "Peugeot": (("peugeot", "بيجو"), {}),
    "Cadillac": (("cadillac", "كاديلاك"), {}),
    "Lincoln": (("lincoln", "لينكولن"), {}),
    "Genesis": (("genesis", "جينيسيس"), {}),
    "Tesla": (("tesla", "تسلا"), {}),
    "MG": (("mg", "ام جي"), {}),
    "Changan": (("changan", "شانجان"), {}),
    "Geely": (("geely", "جيلي"), {}),
    "Suzuki": (("suzuki", "سوزوكي"), {}),
    "Volvo": (("volvo", "فولفو"), {}),
}

# (pattern, make, model or None, alias length)
Alias = tuple[re.Pattern[str], str, str | None, int]


def _alias(alias: str, make: str, model: str | None) -> Alias:
    # A Latin name may be said in the plural ("a recall on land cruisers", "patrols").
    plural = "s?" if len(alias) >= 4 and alias[-1].isascii() and alias[-1].isalpha() else ""
    return re.compile(rf"(?<!\w){AR_PREFIX}{re.escape(alias)}{plural}(?!\w)"), make, model, len(alias)


@functools.cache
def _static_aliases() -> dict[tuple[str, str, str | None], Alias]:
    entries: dict[tuple[str, str, str | None], Alias] = {}
    for make, (make_aliases, models) in CARS.items():
        for alias in (*make_aliases, make):
            entries.setdefault((norm(alias), make, None), _alias(norm(alias), make, None))
        for model, aliases in models.items():
            for alias in (*aliases, model):
                entries.setdefault((norm(alias), make, model), _alias(norm(alias), make, model))
    return entries


def aliases(session: Any) -> list[Alias]:
    """The catalogue's aliases and the database's makes and models (owned and in stock), longest first."""
    entries = dict(_static_aliases())
    known = set()
    for model_class in (Vehicle, StockVehicle):
        known.update(session.execute(select(model_class.make, model_class.model).distinct()).all())
    for make, model in known:
        for alias, model_or_none in ((norm(make), None), (norm(model), model)):
            if alias and (alias, make, model_or_none) not in entries:
                entries[(alias, make, model_or_none)] = _alias(alias, make, model_or_none)
    return sorted(entries.values(), key=lambda row: -row[3])


def car_in_text(session: Any, text: str) -> tuple[str | None, str | None]:
    """The make and model a message names, (None, None) when it names none."""
    said = norm(text)
    make_only: str | None = None
    for pattern, make, model, _ in aliases(session):
        if pattern.search(said):
            if model is not None:
                return make, model
            make_only = make_only or make
    return make_only, None


@functools.cache
def _car_patterns(make: str, model: str | None) -> tuple[re.Pattern[str], ...]:
    names = {name for (name, m, mod) in _static_aliases() if m == make and mod == model}
    names.add(norm(model if model is not None else make))
    return tuple(_alias(name, make, model)[0] for name in sorted(names) if name)


def names_of(make: str, model: str | None = None) -> tuple[str, ...]:
    """Every name customers use for a make, and for its model when given ("chevy", "شفروليه", "تاهو")."""
    kinds = {None} if model is None else {None, model}
    return tuple(sorted({name for (name, m, mod) in _static_aliases() if m == make and mod in kinds}))


# Body colours: the word a dealer's record holds ("Pearl White") → the colour, and what customers call it
# (English, Arabic masculine and feminine with and without the article, Arabizi).
COLOURS: dict[str, tuple[str, ...]] = {
    "white": ("white", "ابيض", "بيضاء", "بيضا", "abyad", "abyadh", "bayda", "baida"),
    "black": ("black", "اسود", "سوداء", "سودا", "aswad", "sooda", "sawda"),
    "silver": ("silver", "فضي", "فضيه", "fedi", "fuddi", "fiddi"),
    "grey": ("grey", "gray", "رمادي", "رماديه", "رصاصي", "رصاصيه", "rmadi", "ramadi", "rusasi"),
    "blue": ("blue", "navy", "ازرق", "زرقاء", "زرقا", "كحلي", "كحليه", "azraq", "azrag", "zarga"),
    "red": ("red", "maroon", "احمر", "حمراء", "حمرا", "عنابي", "ahmar", "7amra", "hamra"),
    "beige": ("beige", "champagne", "بيج", "شمبانيا", "bej"),
    "brown": ("brown", "بني", "بنيه", "bunni", "bonni"),
    "gold": ("gold", "golden", "ذهبي", "ذهبيه", "dahabi", "thahabi"),
    "green": ("green", "اخضر", "خضراء", "خضرا", "akhdar"),
}


def colour_of(recorded: str | None) -> str | None:
    """The colour of a recorded colour name ("Pearl White" → "white", "Dark Blue" → "blue"), or None."""
    said = norm(recorded)
    return next((code for code, words in COLOURS.items() if any(re.search(word_re(w), said) for w in words)), None)


def colour_words(recorded: str | None) -> tuple[str, ...]:
    """What a customer may call a car of this recorded colour ("the white one", "البيضاء")."""
    code = colour_of(recorded)
    return COLOURS[code] if code else ()


def says_car(said: str, make: str, model: str | None = None) -> bool:
    """Whether `norm`ed text names this model (or, without a model, this make) by any alias."""
    return any(pattern.search(said) for pattern in _car_patterns(make, model))


def strip_cars(session: Any, said: str) -> str:
    """`norm`ed text with every car name taken out."""
    for pattern, *_ in aliases(session):
        said = pattern.sub(" ", said)
    return said


# Car names that are also everyday words in a question about a car ("the edge of the tyre", "a sunny day").
_EVERYDAY_NAMES = frozenset({"edge", "sunny", "accent", "accord", "civic", "explorer", "defender", "genesis"})


@functools.cache
def _names_pattern() -> re.Pattern[str]:
    names = sorted({name for (name, _make, _model) in _static_aliases() if name not in _EVERYDAY_NAMES},
                   key=len, reverse=True)
    return re.compile(rf"(?<!\w){AR_PREFIX}(?:{'|'.join(map(re.escape, names))})s?(?!\w)")


def strip_names(said: str) -> str:
    """`norm`ed text without the catalogue's car names (no database: for text compared with data files)."""
    return _names_pattern().sub(" ", said)
