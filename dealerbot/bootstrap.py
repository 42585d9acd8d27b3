"""Build everything in one place: settings, logging, engine, session factory, clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from dealerbot.clock import Clock, SystemClock
from dealerbot.logging import configure_logging
from dealerbot.settings import Settings, load_settings


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits if the block ends normally, rolls back on any exception."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None, configure_logs: bool = True) -> App:
    settings = settings or load_settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    engine = make_engine(settings.database_url)
    return App(settings=settings, engine=engine, sessions=make_session_factory(engine), clock=clock or SystemClock())
