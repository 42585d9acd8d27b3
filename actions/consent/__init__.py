"""Notification consent: which proactive messages a customer wants (the Customer.consent_* flags).

`stop_notifications` turns kinds off after asking which ones and confirming; the same intent with words
like "start", "resume" or "رجعوا" turns them back on (the NLU has one intent for both directions, so the
words decide: `rules.wants_them_back`). Recall notices are safety information: a customer may stop them,
but is warned first. `service` changes a customer's consents (also for the staff console).
"""

from actions.consent.chat import handlers

__all__ = ["handlers"]
