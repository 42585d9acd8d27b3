"""Small talk and the fallback (the main menu itself is shared: actions.kit.menu)."""

from actions.general.chat import handlers

__all__ = ["handlers"]
