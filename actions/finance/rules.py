"""Which finance request a message is (pure functions of the `norm`ed text)."""

from __future__ import annotations

from actions.kit.normalise import has_any

KINDS = ("refinance", "instalment_change", "insurance")
# Checked in this order: "insurance instalments" is about insurance.
KIND_WORDS = {
    "insurance": ("insur*", "policy", "driver on", "تامين*", "بوليصه"),
    "instalment_change": ("instalment*", "installment*", "payment*", "emi", "defer*", "postpone*", "cheque*",
                          "direct debit", "skip", "pay double", "monthly", "قسط*", "اقساط*", "دفعه", "الدفعه",
                          "الدفعات", "تاجيل", "اجل*", "شيكات", "شيك", "الشهري*"),
    "refinance": ("refinanc*", "re financ*", "loan*", "settle*", "pay off", "payoff", "owe", "clearance",
                  "mortgage", "no objection", "interest rate*", "rates", "اعاده تمويل", "اعاده التمويل", "قرض*",
                  "سداد", "تسديد", "مخالصه", "براءه ذمه", "رهن", "فائده", "تمويل بنكي", "التمويل البنكي"),
}


def finance_kind(said: str) -> str | None:
    """The kind of finance request a `norm`ed message names, or None."""
    return next((kind for kind, words in KIND_WORDS.items() if has_any(said, words)), None)
