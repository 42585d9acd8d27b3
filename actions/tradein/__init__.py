"""Trade-in: a valuation of the customer's car (mileage, condition → a lead for sales), and upgrade wishes
("tell me when a Patrol 2022 arrives": an `UpgradeWish` the stock alerts match against new arrivals, a
lead, and the matching cars in stock now). Unknown senders may ask too; they describe their car.

- `rules`: what the message asks for (valuation or upgrade), condition words, a budget in text.
- `service`: the last odometer reading, saving a wish, the stock that matches it.
- `chat`: the `trade_in` intent and the steps of the flow.
"""

from actions.tradein.chat import handlers

__all__ = ["handlers"]
