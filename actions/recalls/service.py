"""A car's recalls from the database: active recalls that apply to it, minus those with a completion row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.recalls.rules import recall_applies
from db.models import Recall, RecallCompletion, Vehicle


def recalls_of(session: Session, vehicle: Vehicle) -> tuple[list[Recall], list[tuple[Recall, date]]]:
    """(open recalls, completed recalls with their date) of one car, oldest campaign first."""
    active = session.scalars(select(Recall).where(Recall.active.is_(True)).order_by(Recall.published_on, Recall.id))
    recalls = [r for r in active if recall_applies(r, vehicle)]
    done = {
        c.recall_id: c.completed_on
        for c in session.scalars(select(RecallCompletion).where(RecallCompletion.vehicle_id == vehicle.id))
    }
    return [r for r in recalls if r.id not in done], [(r, done[r.id]) for r in recalls if r.id in done]


def open_recalls(session: Session, vehicle: Vehicle) -> list[Recall]:
    """The recalls still to be done on the car, oldest campaign first."""
    return recalls_of(session, vehicle)[0]
