"""Import every module of the actions package so their handlers and texts are registered."""

from __future__ import annotations

import importlib
import pkgutil

import actions

_INFRASTRUCTURE = {"all", "registry", "turn"}

for _module in sorted(pkgutil.iter_modules(actions.__path__), key=lambda m: m.name):
    if _module.name not in _INFRASTRUCTURE and not _module.name.startswith("_"):
        importlib.import_module(f"actions.{_module.name}")
