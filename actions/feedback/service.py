"""Saving a rating (after a visit, in chat or from a survey): the feedback row, tied to the customer's
latest completed visit, and for a low rating a complaint so that customer care calls back."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.complaints.rules import category_in
from actions.complaints.service import open_complaint
from actions.feedback.rules import LOW_RATING
from dealerbot.logging import get_logger
from db.models import Appointment, Complaint, Feedback

log = get_logger("actions.feedback")

# The visit a rating is about: the latest completed one within this long.
RECENT_VISIT = timedelta(days=30)


def save_feedback(
    session: Session,
    now: datetime,
    *,
    tz: tzinfo,
    response_hours: int,
    customer_id: int,
    rating: int,
    comment: str | None,
    appointment_id: int | None = None,
) -> tuple[Feedback, Complaint | None]:
    """Save the rating; a low one (≤ LOW_RATING) also opens a complaint from the comment's words. The
    visit is the one named (a survey's, if it is the customer's own completed visit), else the latest."""
    named = session.get(Appointment, appointment_id) if appointment_id is not None else None
    if named is not None and (named.customer_id != customer_id or named.status != "completed"):
        named = None
    recent = named.id if named is not None else session.scalar(
        select(Appointment.id)
        .where(
            Appointment.customer_id == customer_id,
            Appointment.status == "completed",
            Appointment.starts_at <= now,
            Appointment.starts_at >= now - RECENT_VISIT,
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )
    row = Feedback(customer_id=customer_id, appointment_id=recent, rating=rating, comment=comment, created_at=now)
    session.add(row)
    log.info("feedback_saved", rating=rating, with_comment=comment is not None)
    if rating > LOW_RATING:
        return row, None
    category = category_in(comment)
    if category in (None, "other"):
        category = "service_quality"
    ticket = open_complaint(
        session, now, tz=tz, response_hours=response_hours, customer_id=customer_id,
        vehicle_id=named.vehicle_id if named is not None else None,
        category=category, description=comment or f"Rated the service {rating}/5 without a comment.",
        source="feedback",
    )
    row.complaint_id = ticket.id
    return row, ticket
