"""Typed SQLAlchemy 2 models of the whole after-sales domain (DESIGN.md, "Words").

Conventions: every timestamp is time-zone aware and stored as UTC (`UTCDateTime`); calendar dates are
`Date`; money is `Numeric(10, 2)` in AED; closed sets of values are strings guarded by a CHECK
constraint, so the schema itself refuses a bad value; texts a customer reads come in `_en` and `_ar`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    JSON,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    Unicode,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LANGUAGES = ("en", "ar")
CHANNELS = ("telegram", "whatsapp", "console")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        date: Date(),
        time: Time(),
        Decimal: Numeric(10, 2),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """CHECK that a string column holds one of a closed set of values."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_valid")


class Timestamped:
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


# --- people ----------------------------------------------------------------------------------------


class Customer(Timestamped, Base):
    __tablename__ = "customers"
    __table_args__ = (
        one_of("preferred_language", LANGUAGES),
        CheckConstraint("phone LIKE '+%'", name="phone_e164"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_language: Mapped[str] = mapped_column(String(2), default="en")
    # Consent per kind of proactive message; recall notices are safety information and default on.
    consent_service_reminders: Mapped[bool] = mapped_column(default=True)
    consent_appointment_reminders: Mapped[bool] = mapped_column(default=True)
    consent_recall_notices: Mapped[bool] = mapped_column(default=True)
    consent_feedback_surveys: Mapped[bool] = mapped_column(default=True)
    consent_marketing: Mapped[bool] = mapped_column(default=False)

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="owner")
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="customer")


class ChannelIdentity(Base):
    """A Telegram user id or WhatsApp number (or a terminal session) that talks to the bot."""

    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        one_of("channel", CHANNELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    # WhatsApp allows free-form messages only within 24 hours of the customer's last message.
    last_inbound_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    # Set when the platform says we cannot reach this person (Telegram: the bot was blocked; WhatsApp:
    # the recipient unsubscribed); cleared by their next message.
    unreachable_since: Mapped[datetime | None] = mapped_column()

    customer: Mapped[Customer | None] = relationship(back_populates="identities")


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (one_of("role", ("advisor", "manager", "admin")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Failed log-ins in a row (reset by a good one); at the limit the account waits until locked_until.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column()


class StaffSession(Base):
    """A staff member's log-in: the cookie holds a random token, the table only its SHA-256 (a copy of the
    table logs nobody in). Each session has its own CSRF token for the console's forms."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


# --- branches and capacity -------------------------------------------------------------------------


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    city_en: Mapped[str] = mapped_column(String(60))
    city_ar: Mapped[str] = mapped_column(String(60))
    address_en: Mapped[str] = mapped_column(String(300))
    address_ar: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(16))
    emergency_phone: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    courtesy_cars: Mapped[int] = mapped_column(default=0)
    offers_mobile_service: Mapped[bool] = mapped_column(default=False)

    hours: Mapped[list[BranchHours]] = relationship(
        back_populates="branch", order_by="(BranchHours.weekday, BranchHours.opens)"
    )
    bays: Mapped[list[Bay]] = relationship(back_populates="branch", order_by="Bay.name")


class BranchHours(Base):
    """One opening period of a branch on a weekday (0 = Monday); split shifts are several rows."""

    __tablename__ = "branch_hours"
    __table_args__ = (
        UniqueConstraint("branch_id", "weekday", "opens"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column()
    opens: Mapped[time] = mapped_column()
    closes: Mapped[time] = mapped_column()

    branch: Mapped[Branch] = relationship(back_populates="hours")


class Bay(Base):
    """A workshop bay; a branch's capacity is its active bays (lift bays for the work that needs one)."""

    __tablename__ = "bays"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    has_lift: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    branch: Mapped[Branch] = relationship(back_populates="bays")


# --- vehicles and their history --------------------------------------------------------------------


class Vehicle(Timestamped, Base):
    __tablename__ = "vehicles"
    __table_args__ = (
        CheckConstraint("year BETWEEN 1950 AND 2100", name="year_valid"),
        CheckConstraint("length(vin) = 17", name="vin_length"),
        Index("ix_vehicles_make_model", "make", "model"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vin: Mapped[str] = mapped_column(String(17), unique=True)
    plate: Mapped[str | None] = mapped_column(String(20), index=True)
    make: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column()
    # As the dealer's records write it ("Pearl White"); customers name a car by it ("the white one").
    colour: Mapped[str | None] = mapped_column(String(30))
    purchase_date: Mapped[date | None] = mapped_column()
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    sold_by_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="SET NULL"))

    owner: Mapped[Customer | None] = relationship(back_populates="vehicles")
    mileage_readings: Mapped[list[MileageReading]] = relationship(
        back_populates="vehicle", order_by="MileageReading.recorded_at"
    )
    warranties: Mapped[list[Warranty]] = relationship(back_populates="vehicle", order_by="Warranty.start_date")
    service_records: Mapped[list[ServiceRecord]] = relationship(
        back_populates="vehicle", order_by="ServiceRecord.service_date"
    )


class MileageReading(Base):
    __tablename__ = "mileage_readings"
    __table_args__ = (
        CheckConstraint("reading_km >= 0", name="reading_non_negative"),
        one_of("source", ("import", "customer", "service", "seed")),
        Index("ix_mileage_readings_vehicle_recorded", "vehicle_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    reading_km: Mapped[int] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))

    vehicle: Mapped[Vehicle] = relationship(back_populates="mileage_readings")


class ServiceRecord(Base):
    """Past work on a vehicle; (vehicle, date, work) identifies a record so re-imports add nothing."""

    __tablename__ = "service_records"
    __table_args__ = (
        UniqueConstraint("vehicle_id", "service_date", "work"),
        CheckConstraint("mileage_km IS NULL OR mileage_km >= 0", name="mileage_non_negative"),
        CheckConstraint("cost_aed IS NULL OR cost_aed >= 0", name="cost_non_negative"),
        one_of("source", ("import", "seed", "workshop")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    service_date: Mapped[date] = mapped_column()
    mileage_km: Mapped[int | None] = mapped_column()
    work: Mapped[str] = mapped_column(String(500))
    parts: Mapped[list[str]] = mapped_column(default=list)
    cost_aed: Mapped[Decimal | None] = mapped_column()
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column()

    vehicle: Mapped[Vehicle] = relationship(back_populates="service_records")


class VehicleDocument(Base):
    """Certification and vehicle-history documents handed over with the car."""

    __tablename__ = "vehicle_documents"
    __table_args__ = (
        one_of("kind", ("history_report", "certificate", "service_book", "warranty_contract", "inspection_report")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title_en: Mapped[str] = mapped_column(String(200))
    title_ar: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    issued_on: Mapped[date] = mapped_column()


class InspectionReport(Base):
    """The pre-delivery inspection: what was checked, what was found and fixed, what to watch."""

    __tablename__ = "inspection_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="SET NULL"))
    inspected_on: Mapped[date] = mapped_column()
    inspector: Mapped[str] = mapped_column(String(120))
    mileage_km: Mapped[int] = mapped_column()
    summary_en: Mapped[str] = mapped_column(Text)
    summary_ar: Mapped[str] = mapped_column(Text)

    items: Mapped[list[InspectionItem]] = relationship(
        back_populates="report", order_by="InspectionItem.id", cascade="all, delete-orphan"
    )


class InspectionItem(Base):
    __tablename__ = "inspection_items"
    __table_args__ = (one_of("result", ("ok", "fixed", "watch")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("inspection_reports.id", ondelete="CASCADE"), index=True)
    area: Mapped[str] = mapped_column(String(40))
    item_en: Mapped[str] = mapped_column(String(120))
    item_ar: Mapped[str] = mapped_column(String(120))
    result: Mapped[str] = mapped_column(String(8))
    finding_en: Mapped[str | None] = mapped_column(Text)
    finding_ar: Mapped[str | None] = mapped_column(Text)

    report: Mapped[InspectionReport] = relationship(back_populates="items")


# --- warranty --------------------------------------------------------------------------------------


class WarrantyTier(Base):
    """A warranty programme on offer; `rank` orders tiers from least to most protection."""

    __tablename__ = "warranty_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    rank: Mapped[int] = mapped_column(unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_ar: Mapped[str] = mapped_column(String(80))
    description_en: Mapped[str] = mapped_column(Text)
    description_ar: Mapped[str] = mapped_column(Text)
    duration_months: Mapped[int] = mapped_column()
    mileage_limit_km: Mapped[int] = mapped_column()
    covered_components: Mapped[list[str]] = mapped_column()
    excluded_components: Mapped[list[str]] = mapped_column()
    price_aed: Mapped[Decimal] = mapped_column()


class Warranty(Base):
    """One vehicle's warranty contract; the terms are copied from the tier at sale and may differ later."""

    __tablename__ = "warranties"
    __table_args__ = (
        CheckConstraint("end_date > start_date", name="ends_after_start"),
        Index("ix_warranties_end_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_number: Mapped[str] = mapped_column(String(32), unique=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("warranty_tiers.id"))
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date] = mapped_column()
    # Cover ends when the odometer passes this reading, whichever comes first with end_date.
    mileage_limit_km: Mapped[int] = mapped_column()
    covered_components: Mapped[list[str]] = mapped_column()
    excluded_components: Mapped[list[str]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

    vehicle: Mapped[Vehicle] = relationship(back_populates="warranties")
    tier: Mapped[WarrantyTier] = relationship()


CLAIM_STATUSES = ("open", "in_review", "approved", "rejected", "in_repair", "closed")


class WarrantyClaim(Timestamped, Base):
    """Ticket WC-<id>."""

    __tablename__ = "warranty_claims"
    __table_args__ = (
        one_of("status", CLAIM_STATUSES),
        Index("ix_warranty_claims_status_respond_by", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    warranty_id: Mapped[int] = mapped_column(ForeignKey("warranties.id"))
    component: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")
    respond_by: Mapped[datetime] = mapped_column()
    responded_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Raised by one at each deadline missed (the scheduler's SLA watch), as a complaint's.
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column()

    @property
    def ticket_id(self) -> str:
        return f"WC-{self.id}"


# --- maintenance, service catalogue, appointments ---------------------------------------------------


class MaintenancePlan(Base):
    """Service interval rule; make and model '*' mean any, so ('*', '*') is the default plan."""

    __tablename__ = "maintenance_plans"
    __table_args__ = (
        UniqueConstraint("make", "model"),
        CheckConstraint("interval_km > 0 AND interval_months > 0", name="intervals_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    make: Mapped[str] = mapped_column(String(40), default="*")
    model: Mapped[str] = mapped_column(String(60), default="*")
    interval_km: Mapped[int] = mapped_column()
    interval_months: Mapped[int] = mapped_column()


class ModelFigures(Base):
    """The workshop's figures for a model and its years: tyre pressures (cold, psi), engine oil grade and
    capacity (litres, with the filter), the lowest fuel grade (RON). Maintained by the dealership (seeded for
    the demo makes, imported with `dealerbot db import model-figures`); car-care answers quote a figure only
    from here and say where it comes from (`source`). A figure left empty is not known: the answer points
    to the door-jamb label or the owner's manual instead."""

    __tablename__ = "model_figures"
    __table_args__ = (
        UniqueConstraint("make", "model", "year_from"),
        CheckConstraint("year_to >= year_from", name="years_ordered"),
        CheckConstraint("tyre_front_psi BETWEEN 15 AND 90 AND tyre_rear_psi BETWEEN 15 AND 90", name="psi_valid"),
        CheckConstraint("oil_capacity_l > 0 AND oil_capacity_l < 30", name="oil_capacity_valid"),
        CheckConstraint("fuel_ron IN (91, 95, 98)", name="fuel_ron_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    make: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(60))
    year_from: Mapped[int] = mapped_column()
    year_to: Mapped[int] = mapped_column()
    tyre_front_psi: Mapped[int | None] = mapped_column()
    tyre_rear_psi: Mapped[int | None] = mapped_column()
    oil_grade: Mapped[str | None] = mapped_column(String(20))
    oil_capacity_l: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    fuel_ron: Mapped[int | None] = mapped_column()
    # Where the figures come from ("Workshop data sheet LC200 GCC, 2024"): shown with them.
    source: Mapped[str] = mapped_column(String(200))
    updated_on: Mapped[date] = mapped_column()


class ServiceType(Base):
    __tablename__ = "service_types"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("price_aed >= 0", name="price_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    duration_minutes: Mapped[int] = mapped_column()
    price_aed: Mapped[Decimal] = mapped_column()
    needs_lift: Mapped[bool] = mapped_column(default=False)
    mobile_eligible: Mapped[bool] = mapped_column(default=False)
    express_eligible: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Offered when a customer books a service; False for work booked another way (a recall's repair).
    bookable: Mapped[bool] = mapped_column(default=True, server_default=true())


class ServicePackage(Base):
    """A prepaid maintenance plan: a discount on service work and priority booking."""

    __tablename__ = "service_packages"
    __table_args__ = (CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    price_aed: Mapped[Decimal] = mapped_column()
    duration_months: Mapped[int] = mapped_column()
    discount_percent: Mapped[int] = mapped_column()
    priority_booking: Mapped[bool] = mapped_column(default=True)


class PackageSubscription(Base):
    __tablename__ = "package_subscriptions"
    __table_args__ = (
        UniqueConstraint("vehicle_id", "package_id", "start_date"),
        CheckConstraint("end_date > start_date", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("service_packages.id"))
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date] = mapped_column()

    package: Mapped[ServicePackage] = relationship()


APPOINTMENT_STATUSES = ("booked", "cancelled", "completed", "no_show")


class Appointment(Timestamped, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        one_of("status", APPOINTMENT_STATUSES),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_appointments_branch_starts", "branch_id", "starts_at"),
        Index("ix_appointments_bay_starts", "bay_id", "starts_at"),
        Index("ix_appointments_customer_starts", "customer_id", "starts_at"),
        Index("ix_appointments_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    # No bay for mobile service at the customer's place.
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("bays.id"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="booked")
    courtesy_car: Mapped[bool] = mapped_column(default=False)
    pickup_dropoff: Mapped[bool] = mapped_column(default=False)
    mobile_service: Mapped[bool] = mapped_column(default=False)
    express_lane: Mapped[bool] = mapped_column(default=False)
    service_address: Mapped[str | None] = mapped_column(String(300))
    price_aed: Mapped[Decimal] = mapped_column()
    discount_aed: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # Marked in the staff console when the car is at the branch, and when the visit is done.
    arrived_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()


# --- complaints, feedback, case notes ---------------------------------------------------------------

COMPLAINT_STATUSES = ("open", "acknowledged", "in_progress", "resolved", "closed")


class Complaint(Timestamped, Base):
    """Ticket C-<id> with its SLA deadlines and escalation level."""

    __tablename__ = "complaints"
    __table_args__ = (
        one_of("status", COMPLAINT_STATUSES),
        one_of("severity", ("normal", "safety")),
        one_of("source", ("chat", "feedback", "staff")),
        CheckConstraint("escalation_level >= 0", name="escalation_non_negative"),
        Index("ix_complaints_status_respond_by", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8), default="normal")
    description: Mapped[str] = mapped_column(Text)
    # Files the customer sent with it, as the channel names them (`tg-file:<id>`, a Twilio media URL).
    photos: Mapped[list[str]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(16), default="chat")
    status: Mapped[str] = mapped_column(String(16), default="open")
    acknowledge_by: Mapped[datetime] = mapped_column()
    respond_by: Mapped[datetime] = mapped_column()
    resolve_by: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    responded_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None] = mapped_column()
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    @property
    def ticket_id(self) -> str:
        return f"C-{self.id}"


class WorkItem(Base):
    """Work found during a visit that the customer must approve before it is done (the staff console adds
    it with its price; the customer approves or declines it in chat)."""

    __tablename__ = "work_items"
    __table_args__ = (
        one_of("status", ("pending", "approved", "declined")),
        CheckConstraint("price_aed >= 0", name="price_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    price_aed: Mapped[Decimal] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()


class CaseNote(Base):
    """An update on a complaint or a warranty claim; those visible to the customer are its 'last update'."""

    __tablename__ = "case_notes"
    __table_args__ = (
        CheckConstraint(
            "(complaint_id IS NULL) <> (warranty_claim_id IS NULL)", name="exactly_one_case"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    warranty_claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("warranty_claims.id", ondelete="CASCADE"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    visible_to_customer: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column()


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    rating: Mapped[int] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    created_at: Mapped[datetime] = mapped_column()


# --- recalls -----------------------------------------------------------------------------------------


class Recall(Base):
    """A manufacturer campaign; it applies by make/model/year range, or to the listed VINs if any."""

    __tablename__ = "recalls"
    __table_args__ = (
        CheckConstraint("year_from <= year_to", name="year_range_valid"),
        CheckConstraint("repair_minutes BETWEEN 5 AND 1440", name="repair_minutes_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_code: Mapped[str] = mapped_column(String(40), unique=True)
    make: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(60))
    year_from: Mapped[int] = mapped_column()
    year_to: Mapped[int] = mapped_column()
    vins: Mapped[list[str] | None] = mapped_column(JSON)
    title_en: Mapped[str] = mapped_column(String(200))
    title_ar: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text)
    description_ar: Mapped[str] = mapped_column(Text)
    remedy_en: Mapped[str] = mapped_column(Text)
    remedy_ar: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    # The remedy's workshop time and whether it needs a lift: a recall job is booked for that long.
    repair_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    repair_needs_lift: Mapped[bool] = mapped_column(default=False, server_default=false())


class RecallCompletion(Base):
    """A recall's remedy done on one vehicle; open recalls are the matching ones without a row here."""

    __tablename__ = "recall_completions"
    __table_args__ = (UniqueConstraint("recall_id", "vehicle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), index=True)
    completed_on: Mapped[date] = mapped_column()


# --- leads and stock ----------------------------------------------------------------------------------

LEAD_KINDS = (
    "trade_in_valuation",
    "upgrade",
    "refinance",
    "instalment_change",
    "insurance",
    "parts_request",
    "callback",
)


class Lead(Base):
    """A request for staff: trade-in valuation, finance, insurance, parts, or a call back."""

    __tablename__ = "leads"
    __table_args__ = (
        one_of("kind", LEAD_KINDS),
        one_of("status", ("new", "contacted", "won", "lost", "closed")),
        Index("ix_leads_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    # Unknown senders can leave a request too; then only the channel identity is known.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    channel_identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="new")
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column()


class UpgradeWish(Base):
    """What a customer would like next; new stock that matches triggers an alert."""

    __tablename__ = "upgrade_wishes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    make: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(60))
    min_year: Mapped[int | None] = mapped_column()
    max_budget_aed: Mapped[Decimal | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column()


class StockVehicle(Base):
    __tablename__ = "stock_vehicles"
    __table_args__ = (
        one_of("status", ("available", "reserved", "sold")),
        Index("ix_stock_vehicles_make_model", "make", "model"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vin: Mapped[str] = mapped_column(String(17), unique=True)
    make: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column()
    mileage_km: Mapped[int] = mapped_column()
    price_aed: Mapped[Decimal] = mapped_column()
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    arrived_on: Mapped[date] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="available")


# --- messaging: outbox, conversation state, hand-offs ------------------------------------------------

# pending: waiting for its time (next_attempt_at); sending: claimed by a dispatcher until next_attempt_at
# (a lease: a dispatcher that died leaves it to be claimed again then); sent; dead: given up after the
# last attempt, shown to staff and retryable; cancelled: the customer opted out of its kind, or what it
# was about is gone; skipped: nothing can carry it (no template for WhatsApp outside the 24-hour window,
# nobody reachable). failed: a sent message the platform later reported undelivered (status callback).
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled", "skipped", "dead")


class OutboxMessage(Base):
    """A proactive message; the idempotency key makes a repeated scan add nothing twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        one_of("status", OUTBOX_STATUSES),
        one_of("channel", CHANNELS + ("staff",)),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the platform last reported for the sent message (Twilio: queued, sent, delivered, read,
    # failed, undelivered) and its error code, from the status callback.
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error_code: Mapped[str | None] = mapped_column(String(16))
    delivery_updated_at: Mapped[datetime | None] = mapped_column()


class ConversationState(Base):
    """Where a chat is in a multi-step flow; survives restarts and expires after idle time."""

    __tablename__ = "conversation_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_identity_id: Mapped[int] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), unique=True
    )
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str] = mapped_column(String(2), default="en")
    updated_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()


class Handoff(Base):
    """A conversation taken over by a person; the bot stays quiet in it until it is released."""

    __tablename__ = "handoffs"
    __table_args__ = (
        one_of("status", ("open", "claimed", "released")),
        Index("ix_handoffs_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_identity_id: Mapped[int] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column()


class InboundReceipt(Base):
    """A platform message already taken in (Telegram update_id, Twilio MessageSid): written in the same
    transaction as the turn, so a redelivered message is answered once, also after a restart."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "message_id"), Index("ix_inbound_receipts_received", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column()


class ChatMessage(Base):
    """The transcript: every message in and out of a conversation, so staff see what was said (and
    nothing a customer wrote while a person had the conversation is lost)."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        one_of("direction", ("in", "out")),
        Index("ix_chat_messages_identity_created", "channel_identity_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column()
    media: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column()


# --- the scheduler's job store -------------------------------------------------------------------------------

# APScheduler's SQLAlchemyJobStore keeps its jobs (id, next run time, pickled state) in this table, which
# it would create itself; it is declared here and made by the migrations so that the schema has one
# owner (scheduler/service.py passes this name; the columns are the job store's own).
SCHEDULER_JOBS_TABLE = Table(
    "scheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
