"""What a car-care answer adds about the customer's own car: the workshop's figures for its model (tyre
pressures, oil, fuel grade), what its warranty says of the parts the article is about, when its next
service is due.

Figures come only from the dealership's table (db ModelFigures) and are shown with where they come from;
a figure the table does not hold is never guessed: the customer is pointed to the door-jamb label or the
owner's manual. The car is the one the message names, else every car of the customer (at most
MAX_CARS), each under its own heading."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.advice.knowledge import Article
from actions.kit import formats
from actions.kit import vehicles as cars
from actions.kit.turn import Turn
from actions.maintenance.service import due_message, next_service
from actions.mileage.service import latest_km
from actions.warranty.rules import component_label, exclusion_reason
from actions.warranty.service import cover_of
from db.models import ModelFigures, Vehicle

MAX_CARS = 3
# The UAE's names of the fuel grades (the pumps show them, not the octane number).
FUEL_NAMES = {91: "fuel_e_plus", 95: "fuel_special", 98: "fuel_super"}


def figures_of(session: Session, vehicle: Vehicle) -> ModelFigures | None:
    """The workshop's figures for the car's model and year (the latest updated when rows overlap)."""
    return session.scalar(
        select(ModelFigures)
        .where(func.lower(ModelFigures.make) == vehicle.make.lower(),
               func.lower(ModelFigures.model) == vehicle.model.lower(),
               ModelFigures.year_from <= vehicle.year, ModelFigures.year_to >= vehicle.year)
        .order_by(ModelFigures.updated_on.desc(), ModelFigures.id.desc())
        .limit(1)
    )


def _figure_lines(turn: Turn, article: Article, figures: ModelFigures | None) -> list[str]:
    lines, quoted = [], False
    for kind in article.figures:
        if kind == "tyre_pressure":
            if figures is not None and figures.tyre_front_psi and figures.tyre_rear_psi:
                lines.append(turn.t("advice_fig_tyres", front=figures.tyre_front_psi, rear=figures.tyre_rear_psi))
                quoted = True
            else:
                lines.append(turn.t("advice_fig_tyres_unknown"))
        elif kind == "oil":
            if figures is not None and figures.oil_grade and figures.oil_capacity_l:
                litres = formats.number(figures.oil_capacity_l)
                lines.append(turn.t("advice_fig_oil", grade=figures.oil_grade, litres=litres))
                quoted = True
            elif figures is not None and figures.oil_grade:
                lines.append(turn.t("advice_fig_oil_grade", grade=figures.oil_grade))
                quoted = True
            else:
                lines.append(turn.t("advice_fig_oil_unknown"))
        elif kind == "fuel":
            if figures is not None and figures.fuel_ron:
                lines.append(turn.t("advice_fig_fuel", ron=figures.fuel_ron,
                                    grade=turn.t(FUEL_NAMES[figures.fuel_ron])))
                quoted = True
            else:
                lines.append(turn.t("advice_fig_fuel_unknown"))
    if quoted:
        assert figures is not None
        lines.append(turn.t("advice_fig_source", source=figures.source,
                            date=formats.day(figures.updated_on, turn.language)))
    return lines


def _cover_lines(turn: Turn, article: Article, vehicle: Vehicle) -> list[str]:
    if not article.components:
        return []
    cover = cover_of(turn.session, vehicle, turn.local_now.date())
    warranty = cover.warranty
    if warranty is None:
        return []
    if cover.ended is not None:
        return [turn.t("advice_cover_ended", end=formats.day(warranty.end_date, turn.language))]
    tier = warranty.tier.name_ar if turn.language == "ar" else warranty.tier.name_en
    lines = []
    for code in article.components:
        component = component_label(code, turn.language)
        if code in warranty.covered_components:
            lines.append(turn.t("advice_covered", component=component, tier=tier,
                                end=formats.day(warranty.end_date, turn.language),
                                limit=formats.number(warranty.mileage_limit_km)))
        elif code in warranty.excluded_components:
            lines.append(turn.t("advice_not_covered", component=component, tier=tier,
                                reason=turn.t(f"warranty_why_{exclusion_reason(code)}")))
        else:
            lines.append(turn.t("advice_not_in_tier", component=component, tier=tier))
    return lines


def _car_lines(turn: Turn, article: Article, vehicle: Vehicle) -> list[str]:
    lines = _figure_lines(turn, article, figures_of(turn.session, vehicle) if article.figures else None)
    lines += _cover_lines(turn, article, vehicle)
    if article.due:
        due = next_service(turn.session, vehicle, turn.local_now.date(), turn.tz)
        lines += due_message(due, turn.language, with_history=False)
    return lines


def cars_asked(turn: Turn, asked: str | None = None) -> Sequence[Vehicle]:
    """The customer's cars an answer is about: the one the question names (`asked`: the question when it
    was an earlier message), else all of them (none for an unknown sender)."""
    if turn.customer is None:
        return []
    owned = turn.vehicles()
    named = cars.named(turn, owned, asked)
    return [named] if named is not None else owned[:MAX_CARS]


def for_car(turn: Turn, article: Article, cars_of: Sequence[Vehicle]) -> list[str]:
    """The lines about the customer's cars `cars_of` (see cars_asked) for `article` (none when it says
    nothing personal or the customer has no car with us)."""
    if not article.personal:
        return []
    lines = []
    for vehicle in cars_of:
        body = _car_lines(turn, article, vehicle)
        if body:
            km = latest_km(turn.session, vehicle.id)
            lines.append(turn.t("advice_your_car", vehicle=cars.label(vehicle)) if km is None else
                         turn.t("advice_your_car_km", vehicle=cars.label(vehicle), km=formats.number(km)))
            lines.extend(body)
    return lines

