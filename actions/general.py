"""Small talk, the main menu, the fallback, and what every other handler may need (unknown senders)."""

from __future__ import annotations

from bot.messages import register
from bot.types import Option, Reply
from actions.registry import intent
from actions.turn import Turn

register(
    {
        "menu_intro": {
            "en": "I can help with:",
            "ar": "يمكنني مساعدتك في:",
        },
        "menu_book_service": {"en": "Book a service", "ar": "حجز موعد صيانة"},
        "menu_check_appointment": {"en": "My appointments", "ar": "مواعيدي"},
        "menu_warranty_coverage": {"en": "Warranty", "ar": "الضمان"},
        "menu_complaint": {"en": "Make a complaint", "ar": "تقديم شكوى"},
        "menu_case_status": {"en": "Status of my claim or complaint", "ar": "حالة المطالبة أو الشكوى"},
        "menu_service_history": {"en": "Service history and reports", "ar": "سجل الصيانة والتقارير"},
        "menu_dealership_info": {"en": "Branches, hours and location", "ar": "الفروع والمواعيد والموقع"},
        "menu_human_agent": {"en": "Talk to a person", "ar": "التحدث مع موظف"},
        "greet_known": {
            "en": "Hello {name}! How can I help you today?",
            "ar": "مرحباً {name}! كيف يمكنني مساعدتك اليوم؟",
        },
        "greet_unknown_short": {
            "en": "Hello! I am the after-sales assistant. I could not find this number among our customers, "
            "so I can share general information or pass your request to a person.",
            "ar": "مرحباً! أنا مساعد خدمات ما بعد البيع. لم أجد هذا الرقم بين عملائنا، لذلك يمكنني تقديم "
            "معلومات عامة أو تحويل طلبك إلى أحد موظفينا.",
        },
        "goodbye_reply": {
            "en": "Goodbye, and drive safely! Write any time you need us.",
            "ar": "مع السلامة، وقيادة آمنة! راسلنا في أي وقت تحتاجنا.",
        },
        "thanks_reply": {
            "en": "You're welcome! Anything else I can do for you?",
            "ar": "العفو! هل هناك شيء آخر أستطيع مساعدتك فيه؟",
        },
        "affirm_reply": {
            "en": "Great. What would you like to do?",
            "ar": "ممتاز. ماذا تريد أن تفعل؟",
        },
        "deny_reply": {
            "en": "No problem. If you need anything else, just tell me.",
            "ar": "لا مشكلة. إذا احتجت أي شيء آخر، أخبرني فقط.",
        },
        "out_of_scope_reply": {
            "en": "Sorry, that is outside what I can help with. I am the after-sales assistant for your car.",
            "ar": "عذراً، هذا خارج ما يمكنني المساعدة فيه. أنا مساعد خدمات ما بعد البيع لسيارتك.",
        },
        "fallback_reply": {
            "en": "Sorry, I did not understand that. Please choose one of these or say it in other words:",
            "ar": "عذراً، لم أفهم ذلك. اختر أحد هذه الخيارات أو اكتب طلبك بكلمات أخرى:",
        },
        "fallback_degraded": {
            "en": "Sorry, I cannot read free text right now, but your message is saved. Please choose one of these:",
            "ar": "عذراً، لا أستطيع فهم النص الحر الآن، لكن رسالتك محفوظة. اختر أحد هذه الخيارات:",
        },
        "flow_cancelled": {
            "en": "OK, I stopped that. What would you like to do instead?",
            "ar": "حسناً، أوقفت ذلك. ماذا تريد أن تفعل بدلاً منه؟",
        },
        "language_switched": {
            "en": "Sure, I will answer in English from now on.",
            "ar": "بكل سرور، سأجيبك باللغة العربية من الآن.",
        },
        "error_sorry": {
            "en": "Sorry, something went wrong on our side. Your message is saved and a colleague will look "
            "at it; please try again in a moment.",
            "ar": "عذراً، حدث خطأ من جهتنا. رسالتك محفوظة وسيطلع عليها أحد زملائنا؛ يرجى المحاولة بعد قليل.",
        },
        "need_customer": {
            "en": "I could not find this number among our customers, so I cannot show vehicle or case details "
            "here. I can give general information, or pass your request to a person.",
            "ar": "لم أجد هذا الرقم بين عملائنا، لذلك لا يمكنني عرض تفاصيل المركبات أو الطلبات هنا. يمكنني "
            "تقديم معلومات عامة أو تحويل طلبك إلى أحد موظفينا.",
        },
        # Weekday names, Monday = 0 as in datetime.weekday().
        "weekday_0": {"en": "Monday", "ar": "الاثنين"},
        "weekday_1": {"en": "Tuesday", "ar": "الثلاثاء"},
        "weekday_2": {"en": "Wednesday", "ar": "الأربعاء"},
        "weekday_3": {"en": "Thursday", "ar": "الخميس"},
        "weekday_4": {"en": "Friday", "ar": "الجمعة"},
        "weekday_5": {"en": "Saturday", "ar": "السبت"},
        "weekday_6": {"en": "Sunday", "ar": "الأحد"},
        "no_vehicles": {
            "en": "I could not find a vehicle registered to you. A colleague can check that for you.",
            "ar": "لم أجد مركبة مسجلة باسمك. يمكن لأحد زملائنا التحقق من ذلك.",
        },
    }
)

MENU_INTENTS = (
    "book_service",
    "check_appointment",
    "warranty_coverage",
    "complaint",
    "case_status",
    "service_history",
    "dealership_info",
    "human_agent",
)
# What an unknown sender may do: nothing that shows customer data.
PUBLIC_MENU_INTENTS = ("dealership_info", "human_agent")


def menu_options(turn: Turn) -> list[Option]:
    names = MENU_INTENTS if turn.customer is not None else PUBLIC_MENU_INTENTS
    return [turn.option(f"intent:{name}", f"menu_{name}") for name in names]


def with_menu(turn: Turn, key: str, **values: object) -> Reply:
    """A reply followed by the main menu; a number or label picks an item next turn."""
    options = menu_options(turn)
    turn.offer(options)
    return turn.reply(key, options, **values)


def need_customer(turn: Turn) -> Reply:
    """The answer to an unknown sender asking for customer data: general help and a person instead."""
    return with_menu(turn, "need_customer")


def flow_cancelled(turn: Turn) -> Reply:
    return with_menu(turn, "flow_cancelled")


@intent("greet")
def greet(turn: Turn) -> Reply:
    if turn.customer is None:
        return with_menu(turn, "greet_unknown_short")
    return with_menu(turn, "greet_known", name=turn.customer.name)


@intent("goodbye")
def goodbye(turn: Turn) -> Reply:
    return turn.reply("goodbye_reply")


@intent("thanks")
def thanks(turn: Turn) -> Reply:
    return turn.reply("thanks_reply")


@intent("affirm")
def affirm(turn: Turn) -> Reply:
    return with_menu(turn, "affirm_reply")


@intent("deny")
def deny(turn: Turn) -> Reply:
    return turn.reply("deny_reply")


@intent("out_of_scope")
def out_of_scope(turn: Turn) -> Reply:
    return with_menu(turn, "out_of_scope_reply")


@intent("nlu_fallback")
def fallback(turn: Turn) -> Reply:
    return with_menu(turn, "fallback_degraded" if turn.parse.degraded not in (None, "empty") else "fallback_reply")
