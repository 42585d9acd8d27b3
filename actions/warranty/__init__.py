"""Warranty: what a customer's cover includes (`warranty_coverage`) and claims for a fault (`warranty_claim`).

The terms come from the vehicle's warranty contract (tables `warranties` and `warranty_tiers`): tier,
covered and excluded components, end date and the odometer reading at which cover ends, whichever comes
first. A claim is refused politely when the cover has ended or the part is not covered, with a paid repair
offered instead; otherwise it opens ticket WC-<n> with a same-day answer deadline and alerts the warranty
desk. `rules`: components, exclusions, the same-day rule of urgent cases and safety words (complaints use
them too); `service`: cover, tiers, claims, advisor requests; `chat`: the two conversations.
"""

from actions.warranty.chat import handlers

__all__ = ["handlers"]
