"""What the three requests for staff share: trade-in (actions.tradein), finance (actions.finance) and parts
orders (actions.parts).

Each request ends as a `Lead` for a staff team and a staff alert (`service.create_lead`). The shared
pieces: amounts and years in text (`rules`), and the "which car is it about?" steps every one of the
three flows asks (`steps.WhichCar`). Not a domain of its own: it answers no intent, so the registry does
not list it.
"""

from actions.kit.flows import Handlers

# Answers nothing itself: each flow's package declares its intent and its steps, the shared "which car"
# steps included (steps.WhichCar.declare). Listed in the registry like every package under actions/.
handlers = Handlers()

__all__ = ["handlers"]
