"""Start-up to the first screen imports what the first screen needs, not what a server needs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

FIRST_SCREEN = textwrap.dedent(
    """
    import asyncio, json, sys
    from tui_app.cli import build_parser
    from tui_app.app import make_app
    from screens.campaign_list import CampaignTable

    async def main():
        app = make_app(sys.argv[1])
        async with app.run_test(size=(80, 24)) as pilot:
            while not app.screen.query(CampaignTable):
                await pilot.pause(0.01)
        print(json.dumps(sorted(sys.modules)))

    asyncio.run(main())
    """
)


def _modules_at_start(location: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_SCREEN, location], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_first_screen_on_sqlite_imports_no_server_driver_and_no_migrations(tmp_path):
    """On SQLite the app never loads psycopg (Peewee's own import would, whenever it is
    installed: two thirds of Peewee's import time) nor the schema migrator (a new or current
    database needs no step), nor any screen but the first."""
    modules = _modules_at_start(str(tmp_path / "new.db"))
    assert "peewee" in modules and "screens.campaign_list" in modules
    assert not {m for m in modules if m == "psycopg" or m.startswith("psycopg.")}
    assert "playhouse.migrate" not in modules
    assert not {"screens.campaign_detail", "screens.people", "screens.help"} & modules


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_server_is_opened_with_the_driver_handed_to_peewee(empty_db):
    """A process whose Peewee was imported without psycopg opens a PostgreSQL database, with
    transactions, as if Peewee had found the driver itself."""
    code = textwrap.dedent(
        """
        import sys
        from data.db import database, open_database
        import peewee
        assert "psycopg" not in sys.modules and peewee.psycopg is None
        open_database(sys.argv[1])
        with database.atomic():
            database.execute_sql("CREATE TABLE t (x integer)")
            database.execute_sql("INSERT INTO t VALUES (1)")
        try:
            with database.atomic():
                database.execute_sql("INSERT INTO t VALUES (2)")
                raise RuntimeError
        except RuntimeError:
            pass
        print(database.execute_sql("SELECT sum(x) FROM t").fetchone()[0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(empty_db)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
