"""Odometer readings the customer reports ("my Land Cruiser is at 85,000 km", "العداد ٨٥ ألف").

rules.py reads a reading from text and judges it against the ones we have (never backwards; an absurd
jump for the days since the last one, or for the car's age, is stored only once the customer confirms);
service.py lists a car's odometer history and records a reading; chat.py is the report_mileage flow,
which hands over to maintenance_due to tell the recomputed next service.
"""

from actions.mileage.chat import handlers

__all__ = ["handlers"]
