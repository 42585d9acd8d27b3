"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from DEALERBOT_TEST_POSTGRES_URL (default: the local server CI has, database `test`,
user `postgres`). Each test session works in schemas of its own that it drops at the end, so runs never
see each other's rows. If PostgreSQL cannot be reached the PostgreSQL tests fail; they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db import migrate
from db.engine import make_engine, normalise_url
from dealerbot.bootstrap import App
from dealerbot.clock import FixedClock
from tests.scenario import Conversation

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")

# A fixed "now" for tests: Thursday 26 November 2026, 10:00 in Dubai.
TEST_NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def postgres_base_url() -> str:
    return normalise_url(os.environ.get("DEALERBOT_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))


class DatabaseFactory:
    """Makes empty databases: a new SQLite file, or a new schema in the PostgreSQL test database."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self._schemas: list[str] = []
        self._databases: list[str] = []
        self._admin: Engine | None = None

    def admin(self) -> Engine:
        if self._admin is None:
            engine = make_engine(postgres_base_url(), isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - any failure to connect means the same here
                engine.dispose()
                pytest.fail(
                    "PostgreSQL is not reachable at "
                    f"{make_url(postgres_base_url()).render_as_string(hide_password=True)} ({exc.__class__.__name__}). "
                    "Start it, or point DEALERBOT_TEST_POSTGRES_URL at one; the suite does not skip it.",
                    pytrace=False,
                )
            self._admin = engine
        return self._admin

    def new_url(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp_dir / f'db-{uuid.uuid4().hex[:10]}.sqlite3'}"
        schema = f"dealerbot_test_{uuid.uuid4().hex[:12]}"
        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self._schemas.append(schema)
        url = make_url(postgres_base_url()).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def new_database(self, template: str | None = None) -> str:
        """A new PostgreSQL database (a copy of `template` when given) on the test server."""
        name = f"dealerbot_test_{uuid.uuid4().hex[:12]}"
        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self._databases.append(name)
        return make_url(postgres_base_url()).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        with self.admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._databases.remove(name)

    def close(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in self._databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        with self._admin.connect() as conn:
            for schema in self._schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def migrated_engine(backend: str, databases: DatabaseFactory) -> Iterator[Engine]:
    """One migrated database per backend for the whole session; tests roll their changes back."""
    engine = make_engine(databases.new_url(backend))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test, whatever it committed."""
    connection = migrated_engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db_session
    finally:
        db_session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def empty_db_url(backend: str, databases: DatabaseFactory) -> str:
    """A new, empty database (not migrated) of the current backend, for commands run as a process."""
    return databases.new_url(backend)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[str]:
    """The real Rasa server with the current model (trained first if config or data changed)."""
    from nlu import rasa
    from nlu.commands import free_port

    external = os.environ.get("DEALERBOT_TEST_RASA_URL")
    if external:
        # A server someone already runs (while writing tests): no training, no start.
        yield external.rstrip("/")
        return
    project = rasa.RasaProject()
    model = rasa.train(project).model
    port = free_port()
    log_file = project.var_dir / f"rasa-test-{port}.log"
    with rasa.running_server(project, model, port, log_file) as server:
        yield server.url
    log_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def demo_url(backend: str, databases: DatabaseFactory) -> str:
    """One database per backend, migrated and filled with the demo data as of TEST_NOW, committed."""
    from db.demo import seed_demo

    url = databases.new_url(backend)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as db_session, db_session.begin():
        seed_demo(db_session, TEST_NOW)
    engine.dispose()
    return url


@pytest.fixture
def demo_app(demo_url: str, clock: FixedClock) -> Iterator[App]:
    """The app on the demo database; everything a test writes is rolled back afterwards."""
    from sqlalchemy.orm import sessionmaker

    from dealerbot.settings import load_settings

    engine = make_engine(demo_url)
    connection = engine.connect()
    outer = connection.begin()
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app = App(settings=load_settings(database_url=demo_url), engine=engine, sessions=sessions, clock=clock)
    try:
        yield app
    finally:
        outer.rollback()
        connection.close()
        engine.dispose()


# "1": every conversation test asks the real model and the table is written anew; "missing": only texts
# the table lacks are asked for and added.
RECORD_NLU = os.environ.get("DEALERBOT_RECORD_NLU") in {"1", "missing"}
RECORD_ONLY_MISSING = os.environ.get("DEALERBOT_RECORD_NLU") == "missing"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that needs the Rasa server (the `rasa_server` fixture) is marked `rasa`, so the fast
    tier (`make test-fast`, `-m "not rasa"`) runs without training or starting it."""
    for item in items:
        if "rasa_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.rasa)


@pytest.fixture(scope="session")
def nlu_table() -> Iterator[dict]:
    """The fast tier's NLU: tests/data/nlu_table.yml, text → intent, confidence, entities. With
    DEALERBOT_RECORD_NLU=1 (make nlu-table) the conversation tests ask the real model instead and what it
    answers is written back to the table at the end of the run."""
    from tests.fakes import load_table, save_table

    table = load_table()
    yield table
    if RECORD_NLU:
        save_table(table)


@pytest.fixture
def table_nlu(request: pytest.FixtureRequest, nlu_table: dict) -> Callable[[], object]:
    """A factory of the NLU for one turn: the table, or (recording) the real model feeding the table."""
    from tests.fakes import RecordingNlu, TableNlu

    if RECORD_NLU:
        from nlu.client import NluClient

        rasa_url = request.getfixturevalue("rasa_server")
        return lambda: RecordingNlu(NluClient(rasa_url, timeout=20), nlu_table, only_missing=RECORD_ONLY_MISSING)
    fake = TableNlu(nlu_table)
    return lambda: fake


@pytest.fixture
def chat(demo_app: App, table_nlu: Callable[[], object]) -> Callable[..., Conversation]:
    """chat(phone) → a Conversation with the real core and the demo database, and the NLU table for the
    classifier (no Rasa server: the fast tier)."""

    def start(phone: str = "+971501234567", channel: str = "console") -> Conversation:
        return Conversation(demo_app, table_nlu, phone, channel)

    return start


@pytest.fixture
def rasa_chat(demo_app: App, rasa_server: str) -> Callable[..., Conversation]:
    """chat(phone) with the real Rasa server: the end-to-end conversations of each language."""
    from nlu.client import NluClient

    def start(phone: str = "+971501234567", channel: str = "console") -> Conversation:
        # A generous timeout: a busy test machine must not turn a test into a degraded-NLU test.
        return Conversation(demo_app, lambda: NluClient(rasa_server, timeout=20), phone, channel)

    return start


@pytest.fixture(scope="session")
def demo_template(backend: str, databases: DatabaseFactory) -> str:
    """A migrated demo database (as of TEST_NOW) that `live_app` copies: a SQLite file, or a PostgreSQL
    database used as the template of `CREATE DATABASE` (a file copy, much faster than migrating and
    seeding again)."""
    from db.demo import seed_demo

    url = databases.new_url("sqlite") if backend == "sqlite" else databases.new_database()
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as db_session, db_session.begin():
        seed_demo(db_session, TEST_NOW)
    engine.dispose()
    return url


@pytest.fixture
def live_app(backend: str, databases: DatabaseFactory, demo_template: str, clock: FixedClock) -> Iterator[App]:
    """The app on a demo database of its own whose transactions really commit (for the ASGI app, worker
    threads and concurrency tests; the rolled-back `demo_app` shares one connection)."""
    import shutil

    from sqlalchemy.orm import sessionmaker

    from dealerbot.settings import load_settings

    if backend == "sqlite":
        url = databases.new_url("sqlite")
        shutil.copyfile(make_url(demo_template).database, make_url(url).database)
    else:
        url = databases.new_database(template=make_url(demo_template).database)
    engine = make_engine(url)
    app = App(
        settings=load_settings(database_url=url),
        engine=engine,
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        clock=clock,
    )
    try:
        yield app
    finally:
        engine.dispose()
        if backend == "postgresql":
            databases.drop_database(make_url(url).database)
