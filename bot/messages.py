"""The message catalog: every text a customer sees, in English and Arabic.

Handlers never write customer-facing text inline; they pick a key and pass the values.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "ar")

CATALOG: dict[str, dict[str, str]] = {
    "greet_known": {
        "en": "Hello {name}! Welcome back to dealerbot, your after-sales assistant.",
        "ar": "مرحباً {name}! أهلاً بعودتك إلى dealerbot، مساعدك لخدمات ما بعد البيع.",
    },
    "greet_unknown": {
        "en": "Hello! I am dealerbot, the after-sales assistant. I could not find your number among our "
        "customers, so I can give general information or pass your request to a person.",
        "ar": "مرحباً! أنا dealerbot، مساعد خدمات ما بعد البيع. لم أجد رقمك بين عملائنا، لذلك يمكنني "
        "تقديم معلومات عامة أو تحويل طلبك إلى أحد موظفينا.",
    },
    "vehicles_on_file": {
        "en": "Vehicles on file: {vehicles}.",
        "ar": "المركبات المسجلة: {vehicles}.",
    },
    "not_understood_yet": {
        "en": "Thank you. I cannot understand requests yet; please call your branch for now.",
        "ar": "شكراً لك. لا أستطيع فهم الطلبات بعد؛ يرجى الاتصال بالفرع حالياً.",
    },
    "goodbye": {
        "en": "Goodbye, and drive safely!",
        "ar": "مع السلامة، وقيادة آمنة!",
    },
}


def text(key: str, language: str, **values: Any) -> str:
    """The catalog text for key in language ('en' when the language is not one we write)."""
    entry = CATALOG[key]
    return entry.get(language, entry["en"]).format(**values)
