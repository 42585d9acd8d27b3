"""Finance requests: refinancing or the car loan, changing instalments, car insurance. Each becomes a lead
for the finance team (about one of the customer's cars, or none); unknown senders may ask too.

- `rules`: which kind of request a message is.
- `chat`: the `finance` intent and the steps of its flow (the lead itself: actions.leads.service).
"""

from actions.finance.chat import handlers

__all__ = ["handlers"]
