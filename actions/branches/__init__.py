"""Branches: where the service centres are, their phone numbers and map links, and their opening hours.

`rules` finds a branch a message names (by name, city or a place it serves) and the nearest one to a
point; `service` reads the branches and writes the week's hours lines, for the chat, other domains
(roadside, hand-off) and the staff console alike; `chat` answers `dealership_info`.
"""

from actions.branches.chat import handlers

__all__ = ["handlers"]
