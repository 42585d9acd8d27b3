"""Complaints (ticket C-<n>) and the status of a customer's complaints and warranty claims.

A complaint is acknowledged at once, answered within `settings.complaint_response_hours` (a safety issue
the same day) and resolved within a week. `rules`: categories, SLA deadlines, ticket references;
`service`: opening a complaint, a customer's cases (claims come from actions.warranty.service), and the
cases past their deadline with `escalate_overdue` (for the chat answer and a scheduler job alike);
`chat`: the complaint conversation and the case-status answer. Warranty never imports this package.
"""

from actions.complaints.chat import handlers

__all__ = ["handlers"]
