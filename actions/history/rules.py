"""Which part of a car's history a message asks about, as pure rules of text.

Three sections — service records (newest first; a `service_type` in the message filters them, e.g. "when
was my last oil change"), the pre-delivery inspection report (summary, what was fixed before handover,
items to watch) and the vehicle-history documents. The message's words pick the section; each is shown
PAGE_SIZE entries at a time with a "more" option that continues where the last page stopped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from actions.kit.normalise import ascii_digits

SECTIONS = ("records", "inspection", "documents")
# Long lists are shown this many entries at a time.
PAGE_SIZE = 5

# The check before the car was handed over, as customers refer to it (never a booking of a new check).
_PREDELIVERY = (
    r"\bpdi\b|pre[- ]?delivery|before (?:the )?delivery|before i bought|before (?:the )?hand ?over|"
    r"before (?:i|we) (?:took|got|picked up|collected|received)|"
    r"قبل التسليم|قبل الاستلام|قبل استلام|قبل ما (?:ا|أ)?استلم|قبل لا (?:ا|أ)?استلم|فحص ما قبل|الفحص قبل|بالفحص قبل"
)
_PREDELIVERY_WORDS = re.compile(_PREDELIVERY, re.IGNORECASE)
_INSPECTION_WORDS = re.compile(
    _PREDELIVERY + r"|inspection report|"
    r"\binspection\b.*\b(?:find|found|flag|said|report)|items? to watch|flagged|advisor(?:y|ies)|"
    r"تقرير الفحص|ملاحظات الفحص",
    re.IGNORECASE,
)
_DOCUMENT_WORDS = re.compile(
    r"\bdocuments?\b|\bcertificates?\b|\bcertification\b|history report|history certificate|vehicle history|"
    r"car ?fax|service book|\bpdf\b|\bpapers\b|مستند|مستندات|وثيقة|وثائق|شهادة|الشهادة|تقرير تاريخ|تاريخ المركبة|"
    r"تاريخ السيارة|كتيب الصيانة",
    re.IGNORECASE,
)
# Words of a service record's work for each service type of the catalogue (the NLU's `service_type`).
SERVICE_WORK: dict[str, tuple[str, ...]] = {
    "oil_change": (r"\boil\b",),
    "minor_service": (r"minor service",),
    "major_service": (r"major service",),
    "air_conditioning": (r"\bac\b", r"a/c", r"air ?con", r"regas"),
    "brakes": (r"brake",),
    "tyres": (r"tyre", r"\btire"),
    "battery": (r"battery",),
    "wheel_alignment": (r"alignment",),
    "detailing": (r"detail", r"clean"),
    "car_wash": (r"wash",),
    "diagnostics": (r"diagnos",),
}
# What a customer writes to see the next page.
MORE_WORDS = frozenset({"more", "next", "show more", "continue", "more please", "المزيد", "التالي", "كمل", "كمّل",
                        "باقي", "الباقي", "زيد", "اكمل", "أكمل", "المزيد من فضلك"})


def asks_predelivery(text: str | None) -> bool:
    """Whether a message is about the check made before the car was handed over ("what did your check find
    before I took the car?"): the inspection report, not a new inspection to book."""
    return _PREDELIVERY_WORDS.search(ascii_digits(text)) is not None


def section_in(text: str | None) -> str:
    """The section a message asks about: "inspection", "documents", else "records"."""
    said = ascii_digits(text)
    if _INSPECTION_WORDS.search(said):
        return "inspection"
    if _DOCUMENT_WORDS.search(said):
        return "documents"
    return "records"


def service_filter(service_types: Sequence[str]) -> str | None:
    """The first of the NLU's `service_type` values the records can be filtered by."""
    return next((code for code in service_types if code in SERVICE_WORK), None)


def is_work_of(service: str, work: str, parts: Sequence[str] | None) -> bool:
    """Whether a record is about this kind of work: its work up to the first colon (not "tyre pressures set"
    inside a minor service's checklist) or its parts (the engine oil of that minor service)."""
    gist = " ".join([work.split(":", 1)[0], *(parts or [])])
    return any(re.search(pattern, gist, re.IGNORECASE) for pattern in SERVICE_WORK[service])


def asks_more(text: str | None) -> bool:
    """Whether a message asks for the next page ("more", "المزيد")."""
    said = " ".join(re.sub(r"[^\w\s]", " ", ascii_digits(text).lower()).split())
    return said in MORE_WORDS


def page(total: int, offset: int) -> tuple[int, int]:
    """(first index, end index) of the page starting at `offset` of `total` entries."""
    first = max(0, min(offset, total))
    return first, min(first + PAGE_SIZE, total)
