"""Manufacturer recalls of the customer's cars (recall_check).

rules.py says whether a recall applies to a car (by its VIN list, else make, model and year range);
service.py lists a car's open and completed recalls (`open_recalls`, `recalls_of`) for the chat and a
scheduler; chat.py asks which car (or all of them) and answers with the remedy and the offer to book.
"""

from actions.recalls.chat import handlers

__all__ = ["handlers"]
