"""Feedback: a customer rates the service 1-5 (stars, digits or words, English or Arabic) with an
optional comment. `rules` reads ratings and comments; `service` saves them, tied to the latest visit,
and opens a complaint for a low rating (actions.complaints.service); `chat` is the conversation.
"""

from actions.feedback.chat import handlers

__all__ = ["handlers"]
