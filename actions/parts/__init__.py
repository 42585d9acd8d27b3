"""Parts orders: which part, for which car, original (OEM) or aftermarket. Each order becomes a lead for
the parts desk, which answers with price and availability; unknown senders may order too.

- `rules`: whether a message names a part, and the OEM/aftermarket preference in words.
- `service`: `names_a_part` with the car names the database knows.
- `chat`: the `parts_order` intent and the steps of its flow.
"""

from actions.parts.chat import handlers

__all__ = ["handlers"]
