"""Action handlers: one per intent of DESIGN.md, plus the steps of multi-turn flows.

Each module registers its handlers with the decorators of actions.registry and its texts with
actions.kit.catalog.register; importing `actions.all` loads every module.
"""
