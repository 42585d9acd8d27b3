"""Alerts for staff (the console and staff notifications), raised by a chat turn or a scheduler job alike,
and messages to a customer queued by the staff console (`queue_message`).

An alert is a row of the outbox on the "staff" channel; its idempotency key makes it happen once, however
often the same event is seen (a customer asking twice, a job running every few minutes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import OutboxMessage


def alert_staff(
    session: Session,
    now: datetime,
    *,
    customer_id: int | None,
    kind: str,
    key: str,
    payload: dict[str, Any],
    recipient: str = "service-desk",
) -> bool:
    """Queue an alert for staff unless one with this key exists; True when it was queued now."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    if exists is not None:
        return False
    queue_message(session, now, key=key, kind=kind, customer_id=customer_id, payload=payload, channel="staff",
                  recipient=recipient)
    return True


def queue_message(
    session: Session,
    now: datetime,
    *,
    key: str,
    kind: str,
    customer_id: int | None,
    payload: dict[str, Any],
    channel: str = "whatsapp",
    recipient: str | None = None,
) -> OutboxMessage:
    """An outbox row due now (the dispatcher sends it). For a customer the channel is chosen at send time
    (until then the row names the customer); `key` makes it happen once."""
    row = OutboxMessage(idempotency_key=key, kind=kind, customer_id=customer_id, channel=channel,
                        recipient=recipient or f"customer:{customer_id}", template=kind, payload=payload,
                        status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    return row
