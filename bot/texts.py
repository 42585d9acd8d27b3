"""Texts of the channels themselves (linking a phone, what a channel cannot read), in both languages."""

from __future__ import annotations

from bot.messages import register

register(
    {
        "contact_linked": {
            "en": "Thank you, {name}: your number is confirmed. I can now show your cars, bookings and cases.",
            "ar": "شكراً {name}، تم تأكيد رقمك. يمكنني الآن عرض سياراتك ومواعيدك وطلباتك.",
        },
        "contact_unknown": {
            "en": "Thank you. I could not find this number among our customers, so I can share general "
            "information or pass your request to a person. If you bought your car with another number, "
            "write from that number on WhatsApp.",
            "ar": "شكراً لك. لم أجد هذا الرقم بين عملائنا، لذلك يمكنني تقديم معلومات عامة أو تحويل طلبك إلى "
            "أحد موظفينا. إذا اشتريت سيارتك برقم آخر، راسلنا من ذلك الرقم على واتساب.",
        },
        "contact_not_own": {
            "en": "For your privacy I can only link your own number. Please use the button below to share it.",
            "ar": "حفاظاً على خصوصيتك، لا يمكنني ربط إلا رقمك أنت. يرجى استخدام الزر أدناه لمشاركته.",
        },
        "share_phone_prompt": {
            "en": "To see your cars, bookings and warranty here, please share your phone number with the "
            "button below.",
            "ar": "لعرض سياراتك ومواعيدك وضمانك هنا، يرجى مشاركة رقم هاتفك عبر الزر أدناه.",
        },
        "share_phone_button": {"en": "Share my phone number", "ar": "مشاركة رقم هاتفي"},
        "unsupported_voice": {
            "en": "Sorry, I cannot listen to voice notes yet. Please write your request, or choose from the menu.",
            "ar": "عذراً، لا أستطيع الاستماع إلى الرسائل الصوتية بعد. يرجى كتابة طلبك أو الاختيار من القائمة.",
        },
        "unsupported_sticker": {
            "en": "Nice one! Please write what you need, and I will help.",
            "ar": "جميل! اكتب ما تحتاجه وسأساعدك.",
        },
        "choose_language": {"en": "Which language do you prefer?", "ar": "ما اللغة التي تفضلها؟"},
        "notifications_stopped": {
            "en": "You will not get reminders or notices from us any more. Write START to get them again.",
            "ar": "لن تصلك منا تذكيرات أو إشعارات بعد الآن. اكتب START أو «اشتراك» لتفعيلها من جديد.",
        },
        "notifications_started": {
            "en": "Welcome back: reminders and notices are on again. Write STOP to turn them off.",
            "ar": "أهلاً بعودتك، تم تفعيل التذكيرات والإشعارات من جديد. اكتب STOP أو «إيقاف» لإيقافها.",
        },
        "option_chosen": {"en": "✓ {label}", "ar": "✓ {label}"},
        "options_hint": {
            "en": "Reply with a number or the option's words.",
            "ar": "أرسل رقم الخيار أو كلماته.",
        },
        "cmd_start": {"en": "Start", "ar": "البدء"},
        "cmd_help": {"en": "What I can do", "ar": "ما يمكنني فعله"},
        "cmd_menu": {"en": "Main menu", "ar": "القائمة الرئيسية"},
        "cmd_language": {"en": "Language: English or Arabic", "ar": "اللغة: العربية أو الإنجليزية"},
        "cmd_stop": {"en": "Stop reminders and notices", "ar": "إيقاف التذكيرات والإشعارات"},
    }
)
