"""Hand-off to a person: a customer (or an unknown sender) asks for a colleague instead of the bot.

`human_agent` opens a Handoff and alerts staff; the customer is told when someone will answer (within
30 minutes while their branch is open, else at its next opening, in the dealership's time zone), and the
core keeps the bot quiet in the conversation while the hand-off is open or claimed. `service` holds the
rules a console or scheduler needs too: the customer's branch, the promised answer time, opening one.
"""

from actions.handoff.chat import handlers, while_held

__all__ = ["handlers", "while_held"]
