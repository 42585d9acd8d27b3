"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from db import migrate
from db.engine import make_engine
from db.models import Base


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_leave_no_pending_autogenerate_diff(migrated_engine: Engine) -> None:
    assert _diff(migrated_engine) == []


def test_every_model_table_is_created_by_the_migrations(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_go_down_to_nothing_and_up_again(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) is not None
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_0009_moves_the_files_a_complaint_carried_in_its_text_into_its_photos_and_back(empty_db_url: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table, insert, select

    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine, "0008")
        at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        tables = MetaData()
        customers = Table("customers", tables, autoload_with=engine)
        complaints = Table("complaints", tables, autoload_with=engine)
        twilio = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
        with engine.begin() as conn:
            conn.execute(insert(customers).values(id=1, phone="+971500000001", name="Old Complaint", preferred_language="en",
                                                  consent_service_reminders=True, consent_appointment_reminders=True,
                                                  consent_recall_notices=True, consent_feedback_surveys=True,
                                                  consent_marketing=False, created_at=at, updated_at=at))
            base = dict(customer_id=1, category="service", severity="normal", source="chat", status="acknowledged",
                        acknowledge_by=at, respond_by=at, resolve_by=at, escalation_level=0, created_at=at, updated_at=at)
            conn.execute(insert(complaints).values(id=1, description=f"Scratched door\ntg-file:AgAD1\n{twilio}", **base))
            conn.execute(insert(complaints).values(id=2, description="No files here", **base))
        migrate.upgrade(engine)
        upgraded = Table("complaints", MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = dict((r.id, (r.description, r.photos)) for r in conn.execute(select(upgraded)))
        assert rows == {1: ("Scratched door", ["tg-file:AgAD1", twilio]), 2: ("No files here", [])}
        migrate.downgrade(engine, "0008")
        with engine.connect() as conn:
            texts = dict(conn.execute(select(complaints.c.id, complaints.c.description)).all())
        assert texts == {1: f"Scratched door\ntg-file:AgAD1\n{twilio}", 2: "No files here"}
    finally:
        engine.dispose()
