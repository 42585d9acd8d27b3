"""Appointments: book a service, reschedule, cancel and check — on the customer's own vehicles and bookings.

Where to look:
- slots.py — the slot finder: which start times fit a branch's bays, opening hours, mobile teams and
  courtesy cars; plan customers' priority bays.
- service.py — reads and writes without a conversation (book/move/cancel under the branch lock,
  upcoming appointments, lookups): for the chat, the scheduler and a staff console.
- rules.py — pure rules: extras on offer, the plan discount, booking references, slot ids.
- chat_book.py — the book_service flow; chat_manage.py — check/reschedule/cancel; chat_common.py —
  what both show (times, appointment lines, the "when?" step); chat.py — their handlers merged.
- texts/en.yml, texts/ar.yml — the customer texts.
"""

from actions.appointments.chat import handlers

__all__ = ["handlers"]
