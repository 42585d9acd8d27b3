"""Writing to the outbox: one row per proactive message, keyed so that a scan adds nothing twice.

The idempotency key is `kind:subject:due:stage` ("service_due:vehicle-12:2027-01-05:notice"): the same
scan run twice, late, or after a crash finds the row there and adds nothing (INSERT ... ON CONFLICT DO
NOTHING, so two scanners at once cannot both add it either). A scan never sends: the dispatcher does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Insert, Integer, String, bindparam, cast, column, func, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import OutboxMessage


def key(kind: str, subject: str, due: date | datetime | str, stage: str) -> str:
    when = due.isoformat() if isinstance(due, (date, datetime)) else due
    return f"{kind}:{subject}:{when}:{stage}"


@dataclass(frozen=True)
class Pending:
    """A message a scan found due, before it is in the outbox."""

    key: str
    kind: str
    customer_id: int
    payload: dict[str, Any]
    send_at: datetime  # not before this time (the dispatcher also keeps quiet hours)


def _insert(session: Session) -> Any:
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def enqueue(session: Session, messages: list[Pending], now: datetime) -> int:
    """Add the messages whose key is not in the outbox yet; the number added. The channel and recipient
    are chosen when the message is sent (the customer may write to us on another channel meanwhile):
    until then the row names the customer's phone on WhatsApp."""
    if not messages:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _enqueue_postgresql(session, messages, now)
    rows = [
        {
            "idempotency_key": m.key,
            "kind": m.kind,
            "customer_id": m.customer_id,
            "channel": "whatsapp",
            "recipient": f"customer:{m.customer_id}",
            "template": m.kind,
            "payload": m.payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": m.send_at,
            "created_at": now,
        }
        for m in messages
    ]
    # The rows as a parameter list (SQLAlchemy batches them as "insertmanyvalues"), not one VALUES clause
    # with a parameter per cell: that statement was compiled anew for every chunk (10× slower, measured).
    statement: Insert = _insert(session)(OutboxMessage)
    statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])  # type: ignore[attr-defined]
    result = session.connection().execute(statement.returning(OutboxMessage.id), rows)
    return len(result.all())


def _enqueue_postgresql(session: Session, messages: list[Pending], now: datetime) -> int:
    """The same insert as one statement over one JSON parameter (`json_to_recordset`), whatever the number
    of rows. As a parameter list, psycopg parsed a statement of 11 placeholders a row for every 1,000 rows;
    as arrays, it quoted every string: either cost more than the insert itself."""
    data = [{"key": m.key, "kind": m.kind, "customer_id": m.customer_id, "payload": m.payload,
             "send_at": m.send_at.isoformat()} for m in messages]
    source = func.json_to_recordset(bindparam("rows", data, type_=JSON)).table_valued(
        column("key", String), column("kind", String), column("customer_id", Integer), column("payload", JSON),
        column("send_at", DateTime(timezone=True)),
    ).render_derived(with_types=True)
    rows = select(source.c.key, source.c.kind, source.c.customer_id, literal("whatsapp"),
                  literal("customer:") + cast(source.c.customer_id, String), source.c.kind, source.c.payload,
                  literal("pending"), literal(0), source.c.send_at,
                  literal(now, OutboxMessage.__table__.c.created_at.type))
    columns = ["idempotency_key", "kind", "customer_id", "channel", "recipient", "template", "payload", "status",
               "attempts", "next_attempt_at", "created_at"]
    statement = (postgresql_insert(OutboxMessage).from_select(columns, rows)
                 .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(OutboxMessage.id))
    return len(session.connection().execute(statement).all())
