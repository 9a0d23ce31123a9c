"""Shared fixtures: throwaway databases on both backends, a fixed clock, and a small demo.

Every test that takes a database runs twice: on SQLite (a file under tmp_path) and on PostgreSQL
(a database of its own on the server named by CAMPAIGNS_TEST_PG, made from a template). Without
that variable the PostgreSQL half is skipped, saying how to run it; `.ci/run` starts a throwaway
server and sets CAMPAIGNS_TEST_REQUIRE_PG, so there a skipped half is a failure.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from pytest_textual_snapshot import SVGImageExtension

from data.db import database, open_database

os.environ["CAMPAIGNS_USER"] = "tester"
"""Who the journal says made each change, the same on every machine."""

FIXED_NOW = datetime(2026, 11, 20, 12, 0, 0)
"""The clock every test and snapshot runs at."""

DEMO_SIZE = {"people": 400, "campaigns": 8, "seed": 7}


def _close() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()


PG_SERVER = os.environ.get("CAMPAIGNS_TEST_PG", "")
"""A PostgreSQL URL whose role may create databases (its own database name is not used)."""

BACKENDS = ("sqlite", "postgresql")
_names = itertools.count()


def _pg_url(name: str) -> str:
    """The test server's URL with another database name."""
    return urlsplit(PG_SERVER)._replace(path=f"/{name}").geturl()


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _pg_create(template: str | None = None, options: str = "") -> str:
    """A new database on the test server, empty or a copy of `template`; its name."""
    name = f"cm_test_{os.getpid()}_{next(_names)}"
    _pg_admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "") + options)
    return name


def _pg_drop(name: str) -> None:
    _close()
    _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database backend a test runs on (each database test runs on both)."""
    if request.param == "postgresql" and not PG_SERVER:
        if os.environ.get("CAMPAIGNS_TEST_REQUIRE_PG"):
            pytest.fail("CAMPAIGNS_TEST_REQUIRE_PG is set but CAMPAIGNS_TEST_PG is not")
        pytest.skip(
            "PostgreSQL half: set CAMPAIGNS_TEST_PG=postgresql://USER@HOST:PORT/postgres "
            "(a role that may create databases; bash .ci/run starts a throwaway server)"
        )
    return request.param


@pytest.fixture
def fresh_db(backend, tmp_path):
    """An empty, migrated database: a file (never :memory:, which each thread would see empty)
    on SQLite, a database of its own on PostgreSQL. Its path or URL."""
    if backend == "postgresql":
        name = _pg_create()
        open_database(_pg_url(name))
        yield _pg_url(name)
        _pg_drop(name)
        return
    path = tmp_path / "campaigns.db"
    open_database(str(path))
    yield path
    _close()


@pytest.fixture
def empty_db(backend, tmp_path, request):
    """Where a database that nobody has opened yet lives: a path on SQLite (no file yet), an
    empty database on PostgreSQL (created with the options of a `pg_options` mark). Its path or
    URL; nothing is opened."""
    if backend == "postgresql":
        mark = request.node.get_closest_marker("pg_options")
        name = _pg_create(options=mark.args[0] if mark else "")
        yield _pg_url(name)
        _pg_drop(name)
        return
    yield tmp_path / "new.db"
    _close()


def _generate_demo(location: str) -> None:
    from data.demo import generate

    db = open_database(location)
    generate(now=FIXED_NOW, **DEMO_SIZE)
    if backend_of(location) == "sqlite":
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def backend_of(location) -> str:
    return "postgresql" if str(location).startswith("postgres") else "sqlite"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The small demo, generated once per backend: {backend: path or template database name}."""
    made: dict[str, str] = {}

    def get(backend: str):
        if backend not in made:
            if backend == "postgresql":
                made[backend] = _pg_create()
                _generate_demo(_pg_url(made[backend]))
            else:
                made[backend] = str(tmp_path_factory.mktemp("demo") / "demo.db")
                _generate_demo(made[backend])
        return made[backend]

    yield get
    for backend, name in made.items():
        if backend == "postgresql":
            _pg_drop(name)


@pytest.fixture
def demo_db(backend, tmp_path, demo_template):
    """A fresh copy of the small demo database, opened; its path (or URL on PostgreSQL)."""
    if backend == "postgresql":
        name = _pg_create(template=demo_template(backend))
        open_database(_pg_url(name))
        yield _pg_url(name)
        _pg_drop(name)
        return
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template(backend), path)
    open_database(str(path))
    yield path
    _close()


_snapshot_name = SVGImageExtension.get_snapshot_name.__func__


def _backend_neutral_snapshot_name(cls, *, test_location, index=0) -> str:
    """Both backends must draw the same screen, so they share one snapshot file."""
    name = _snapshot_name(cls, test_location=test_location, index=index)
    name = re.sub(r"(?<=[\[-])(sqlite|postgresql)(-|(?=\]))", "", name)
    return name.replace("[]", "").replace("-]", "]")


SVGImageExtension.get_snapshot_name = classmethod(_backend_neutral_snapshot_name)


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch):
    """Input cursors do not blink in tests, so a snapshot never catches one half-way."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(autouse=True)
def settings_home(monkeypatch, tmp_path):
    """Each test remembers its settings (the last folder saved in) under its own tmp_path, never
    in the user's state folder; the folder, for the tests that read the file."""
    home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home / "campaign-members"


@pytest.fixture
def make_tui(demo_db, tmp_path):
    """Build the app on the small demo database at the fixed clock; exports go to tmp_path."""
    from tui_app.app import make_app

    def build(**options):
        options.setdefault("now", FIXED_NOW)
        options.setdefault("export_dir", tmp_path)
        return make_app(str(demo_db), **options)

    return build
