"""Trade-in reads and writes: the last odometer reading, upgrade wishes, the stock that matches a wish."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Branch, StockVehicle, UpgradeWish


def save_upgrade_wish(
    session: Session,
    now: datetime,
    customer_id: int,
    make: str | None,
    model: str | None,
    min_year: int | None,
    max_budget_aed: int | Decimal | None,
) -> UpgradeWish:
    """The customer's active wish for this car and budget: the one they have, else a new one."""
    budget = None if max_budget_aed is None else Decimal(max_budget_aed)
    active = session.scalars(
        select(UpgradeWish).where(UpgradeWish.customer_id == customer_id, UpgradeWish.active.is_(True))
    )
    wish = next(
        (
            w for w in active
            if (w.make, w.model, w.min_year) == (make, model, min_year)
            and (w.max_budget_aed is None if budget is None else w.max_budget_aed == budget)
        ),
        None,
    )
    if wish is None:
        wish = UpgradeWish(
            customer_id=customer_id,
            make=make,
            model=model,
            min_year=min_year,
            max_budget_aed=budget,
            active=True,
            created_at=now,
        )
        session.add(wish)
        session.flush()
    return wish


def matching_stock(
    session: Session,
    make: str | None,
    model: str | None,
    min_year: int | None,
    max_budget_aed: int | Decimal | None,
    limit: int = 3,
) -> list[StockVehicle]:
    """Available cars in stock that fit a wish (None: any), cheapest first."""
    query = select(StockVehicle).where(StockVehicle.status == "available")
    if make:
        query = query.where(StockVehicle.make == make)
    if model:
        query = query.where(StockVehicle.model == model)
    if min_year:
        query = query.where(StockVehicle.year >= min_year)
    if max_budget_aed is not None:
        query = query.where(StockVehicle.price_aed <= Decimal(max_budget_aed))
    return list(session.scalars(query.order_by(StockVehicle.price_aed, StockVehicle.id).limit(limit)))


def branch_names(session: Session, language: str) -> dict[int, str]:
    """Branch id → its name in the language (Arabic or English)."""
    return {b.id: (b.name_ar if language == "ar" else b.name_en) for b in session.scalars(select(Branch))}
