"""When the customer's car is next due for its service (maintenance_due).

rules.py holds the interval rule and the due computation (pure: data and dates in, a `Due` out);
service.py reads the plan, the service records and the odometer history (`next_service`) and words the
answer in a language (`due_message`, usable by a scheduler reminder too); chat.py asks which car and
answers, and tells the recomputed due service after report_mileage stored a reading.
"""

from actions.maintenance.chat import handlers

__all__ = ["handlers"]
