"""Roadside assistance: a customer (or anyone) stuck on the road after a breakdown or an accident.

The bot answers at once with the emergency number and safety guidance and alerts the roadside team,
then asks where the customer is (free text, or a shared location: a `geo:lat,lng` URI, a map link or
plain coordinates), which goes to the team as a second urgent alert. `rules` reads locations and
"I'm safe" / "someone is hurt" answers; `service` picks the responsible branch and builds the alerts.
"""

from actions.roadside.chat import handlers

__all__ = ["handlers"]
