"""Parts reads: whether a message names a part, once the car names the database knows are taken out."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.kit.cars import strip_cars
from actions.kit.normalise import norm
from actions.parts.rules import names_part


def names_a_part(session: Session, text: str) -> bool:
    """Whether a parts message names the part ("left side mirror for the Prado"), not only the car."""
    return names_part(strip_cars(session, norm(text)))
