"""Shared fixtures: throwaway database files, a fixed clock, and a small deterministic demo."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from data.db import database, open_database

FIXED_NOW = datetime(2026, 11, 20, 12, 0, 0)
"""The clock every test and snapshot runs at."""

DEMO_SIZE = {"people": 400, "campaigns": 8, "seed": 7}


def _close() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()


@pytest.fixture
def fresh_db(tmp_path):
    """An empty, migrated database file (never :memory:, which each thread would see empty)."""
    path = tmp_path / "campaigns.db"
    open_database(str(path))
    yield path
    _close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    from data.demo import generate

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    db = open_database(str(path))
    generate(now=FIXED_NOW, **DEMO_SIZE)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def demo_db(tmp_path, demo_template):
    """A fresh copy of the small demo database, opened; its path."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    open_database(str(path))
    yield path
    _close()


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch):
    """Input cursors do not blink in tests, so a snapshot never catches one half-way."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def make_tui(demo_db, tmp_path):
    """Build the app on the small demo database at the fixed clock; exports go to tmp_path."""
    from tui_app.app import make_app

    def build(**options):
        options.setdefault("now", FIXED_NOW)
        options.setdefault("export_dir", tmp_path)
        return make_app(str(demo_db), **options)

    return build
