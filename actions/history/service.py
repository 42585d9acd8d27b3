"""A car's history from the database: service records, the pre-delivery inspection report, documents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.history.rules import is_work_of
from db.models import InspectionReport, ServiceRecord, ServiceType, Vehicle, VehicleDocument


def service_records(session: Session, vehicle: Vehicle, service: str | None = None) -> list[ServiceRecord]:
    """The car's service records, newest first; with a service type code only the records of that work."""
    records = list(
        session.scalars(
            select(ServiceRecord)
            .where(ServiceRecord.vehicle_id == vehicle.id)
            .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc())
        )
    )
    if service is None:
        return records
    return [r for r in records if is_work_of(service, r.work, r.parts)]


def service_name(session: Session, code: str, language: str) -> str:
    """The catalogue name of a service type ("Oil change" / its Arabic name), else the code."""
    row = session.scalar(select(ServiceType).where(ServiceType.code == code))
    if row is None:
        return code
    return row.name_ar if language == "ar" else row.name_en


def inspection_report(session: Session, vehicle: Vehicle) -> InspectionReport | None:
    """The car's latest pre-delivery inspection report."""
    return session.scalar(
        select(InspectionReport)
        .where(InspectionReport.vehicle_id == vehicle.id)
        .order_by(InspectionReport.inspected_on.desc(), InspectionReport.id.desc())
    )


def documents(session: Session, vehicle: Vehicle) -> list[VehicleDocument]:
    """The car's documents (history report, certificates), oldest first."""
    return list(
        session.scalars(
            select(VehicleDocument)
            .where(VehicleDocument.vehicle_id == vehicle.id)
            .order_by(VehicleDocument.issued_on, VehicleDocument.id)
        )
    )
