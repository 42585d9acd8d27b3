"""Build everything in one place: settings, logging, engine, session factory, clock (`bootstrap`), and
the NLU client, the core and the channels on top (`compose`). Nothing is built at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from dealerbot.clock import Clock, SystemClock
from dealerbot.logging import configure_logging
from dealerbot.settings import Settings, load_settings
from nlu.client import NluClient

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.core import Assistant
    from bot.metrics import Metrics


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

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only unit of work, always rolled back and never flushed. On SQLite it begins DEFERRED:
        it reads a snapshot without the write lock that `transaction` takes at once, so writers are not
        kept waiting for it (and it must not write: it could not take the lock later)."""
        with self.sessions() as session, session.begin(), session.no_autoflush:
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            try:
                yield session
            finally:
                session.rollback()

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None, configure_logs: bool = True) -> App:
    settings = settings or load_settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    engine = make_engine(settings.database_url)
    return App(settings=settings, engine=engine, sessions=make_session_factory(engine), clock=clock or SystemClock())


@dataclass
class Services:
    """Everything `dealerbot serve` and `dealerbot chat` run on, built once by `compose()`."""

    app: App
    nlu: NluClient
    assistant: Assistant
    metrics: Metrics
    channels: dict[str, Channel] = field(default_factory=dict)

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.stop()
        await self.nlu.aclose()


def configured_channels(settings: Settings) -> list[str]:
    """The platforms whose credentials are set."""
    names = []
    if settings.telegram_bot_token is not None:
        names.append("telegram")
    if settings.twilio_account_sid and settings.twilio_auth_token is not None and settings.twilio_whatsapp_from:
        names.append("whatsapp")
    return names


def compose(
    app: App,
    *,
    nlu: NluClient | None = None,
    channels: list[str] | None = None,
    metrics: Metrics | None = None,
) -> Services:
    """The composition root: the NLU client, the core and each configured channel, wired together.

    `channels` picks the platforms (default: every one whose credentials are set); nothing builds its own
    dependencies."""
    from bot.core import Assistant
    from bot.serial import KeyedLocks

    from bot.metrics import Metrics

    metrics = metrics or Metrics()
    nlu = nlu or NluClient(app.settings.rasa_url)
    assistant = Assistant(
        transaction=app.transaction,
        settings=app.settings,
        clock=app.clock,
        nlu=nlu,
        locks=KeyedLocks(),
        metrics=metrics,
    )
    services = Services(app=app, nlu=nlu, assistant=assistant, metrics=metrics)
    for name in configured_channels(app.settings) if channels is None else channels:
        if name == "telegram":
            from bot.telegram import TelegramChannel

            services.channels[name] = TelegramChannel(
                settings=app.settings, assistant=assistant, transaction=app.transaction, clock=app.clock,
                metrics=metrics,
            )
        elif name == "whatsapp":
            from bot.whatsapp import WhatsAppChannel

            services.channels[name] = WhatsAppChannel(
                settings=app.settings, assistant=assistant, transaction=app.transaction, clock=app.clock,
                metrics=metrics,
            )
        else:
            raise ValueError(f"unknown channel {name!r}")
    return services
