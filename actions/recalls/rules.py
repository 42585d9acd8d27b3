"""Which recalls apply to a car: pure rules of a recall row and a car."""

from __future__ import annotations

from db.models import Recall, Vehicle


def recall_applies(recall: Recall, vehicle: Vehicle) -> bool:
    """A recall applies to the listed VINs when it lists any, else by make, model (None = every model) and
    year range."""
    if recall.vins:
        return vehicle.vin.upper() in {v.strip().upper() for v in recall.vins}
    return (
        recall.make.casefold() == vehicle.make.casefold()
        and (recall.model is None or recall.model.casefold() == vehicle.model.casefold())
        and recall.year_from <= vehicle.year <= recall.year_to
    )
