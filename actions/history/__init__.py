"""What was done to the customer's car (service_history): its service records, the pre-delivery
inspection report and the vehicle-history documents.

rules.py picks the section and the kind of work a message asks about; service.py reads the records,
the report and the documents of a car; chat.py asks which car and shows a section PAGE_SIZE entries at a
time, with "more" and the other sections as options.
"""

from actions.history.chat import handlers

__all__ = ["handlers"]
