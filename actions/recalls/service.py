"""A car's recalls from the database: active recalls that apply to it, minus those with a completion row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.recalls.rules import recall_applies
from db.models import Recall, RecallCompletion, ServiceType, Vehicle


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


RECALL_CODE_PREFIX = "recall-"


def recall_work(session: Session, recall: Recall) -> ServiceType:
    """The service type a recall's repair is booked as: free, as long as the remedy takes, with a lift if
    it needs one, and not offered in the ordinary list of services (bookable=False). Made the first time
    the recall is booked, kept in step with the recall after that."""
    code = f"{RECALL_CODE_PREFIX}{recall.id}"
    work = session.scalar(select(ServiceType).where(ServiceType.code == code))
    if work is None:
        work = ServiceType(code=code, price_aed=Decimal("0"), mobile_eligible=False, express_eligible=False,
                           bookable=False, active=True, name_en="", name_ar="", duration_minutes=recall.repair_minutes)
        session.add(work)
    work.name_en = f"Recall work {recall.campaign_code}: {recall.title_en}"[:120]
    work.name_ar = f"إصلاح الاستدعاء {recall.campaign_code}: {recall.title_ar}"[:120]
    work.duration_minutes = recall.repair_minutes
    work.needs_lift = recall.repair_needs_lift
    session.flush()
    return work


def recall_of_work(session: Session, work: ServiceType) -> Recall | None:
    """The recall a recall-work service type was made for (None for ordinary services)."""
    if not work.code.startswith(RECALL_CODE_PREFIX):
        return None
    number = work.code.removeprefix(RECALL_CODE_PREFIX)
    return session.get(Recall, int(number)) if number.isdigit() else None
