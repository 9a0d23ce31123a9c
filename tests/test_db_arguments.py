"""`--db` and `demo` arguments a clumsy hand (or a script) gets wrong: each is one line, and
nothing is created, emptied or filled on the way."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from data.db import database, open_database
from data.models import Campaign, Lead
from tests import factories as f

PATIENCE = 60.0
"""Seconds a command has to answer; a command that hangs or spins fails the test instead."""


def one_line_error(capsys, argv: list[str]) -> str:
    """Run the command in this process; it must fail with exactly one line on stderr."""
    from tui_app.cli import main

    capsys.readouterr()
    assert main(argv) == 1, argv
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("campaigns: error: ")
    assert captured.out == ""
    return captured.err


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The command as a process of its own, given `PATIENCE` seconds (it used to hang or spin)."""
    return subprocess.run(
        [sys.executable, "-m", "tui_app", *args],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMPAIGNS_DB", raising=False)
    yield tmp_path
    if database.obj is not None and not database.is_closed():
        database.close()


@pytest.mark.parametrize("command", [["campaign", "list"], ["--demo", "campaign", "list"]])
def test_an_empty_db_is_an_error_not_the_default_database(in_tmp, capsys, monkeypatch, command):
    monkeypatch.setenv("XDG_DATA_HOME", str(in_tmp / "data"))
    error = one_line_error(capsys, ["--db", "", *command])
    assert "--db needs a file path or a database URL" in error
    assert not (in_tmp / "data").exists()  # the default database was not created either


def test_an_in_memory_database_is_refused(in_tmp, capsys):
    error = one_line_error(capsys, ["--db", ":memory:", "campaign", "create", "Gone", "--json"])
    assert "in-memory database would lose every change" in error


def test_a_sqlite_uri_is_refused_and_leaves_no_stray_file(in_tmp, capsys):
    error = one_line_error(capsys, ["--db", "file:a.db?mode=ro", "campaign", "list"])
    assert "is not a file path" in error
    assert os.listdir(in_tmp) == []


def test_a_log_left_beside_a_new_database_is_refused(in_tmp, capsys):
    """An empty x.db-wal (another database's, or left over) beside a new x.db would be taken as
    its log and the whole new database written into it."""
    (in_tmp / "x.db-wal").write_bytes(b"")
    error = one_line_error(capsys, ["--db", "x.db", "campaign", "list"])
    assert "x.db-wal is left over" in error
    assert sorted(os.listdir(in_tmp)) == ["x.db-wal"]
    assert (in_tmp / "x.db-wal").stat().st_size == 0


def test_a_log_beside_a_database_in_use_is_its_own(in_tmp, capsys):
    """The check is only for a new or empty file: a database with its log opens as usual."""
    from tui_app.cli import main

    open_database(str(in_tmp / "x.db"))
    f.campaign("In the log")  # committed to x.db-wal, not yet checkpointed
    assert (in_tmp / "x.db-wal").exists()
    assert main(["--db", "x.db", "campaign", "list"]) == 0
    assert "In the log" in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_is_refused_at_once(in_tmp):
    os.mkfifo(in_tmp / "pipe.db")
    done = run_cli("--db", str(in_tmp / "pipe.db"), "campaign", "list")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "is not a regular file" in done.stderr


def test_a_device_is_refused(in_tmp, capsys):
    error = one_line_error(capsys, ["--db", os.devnull, "campaign", "list"])
    assert "is not a regular file" in error


def test_an_empty_file_made_beforehand_becomes_private(in_tmp):
    """Personal data: a database file is readable and writable by its owner only, also when the
    empty file was made beforehand with a wider mode (`touch`)."""
    from tui_app.cli import main

    path = in_tmp / "touched.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    assert main(["--db", str(path), "campaign", "list"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((in_tmp / "touched.db-wal").stat().st_mode) == 0o600


def test_a_new_file_is_private(in_tmp):
    from tui_app.cli import main

    assert main(["--db", "new.db", "campaign", "list"]) == 0
    assert stat.S_IMODE((in_tmp / "new.db").stat().st_mode) == 0o600


def test_a_database_with_its_own_mode_keeps_it(in_tmp):
    """A database already in use with a mode someone chose (a team's shared group) is theirs."""
    from tui_app.cli import main

    path = in_tmp / "shared.db"
    open_database(str(path))
    database.close()
    path.chmod(0o660)
    assert main(["--db", str(path), "campaign", "list"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o660


@pytest.mark.parametrize(
    "argument, value, bound",
    [
        ("--people", "99999999999999999999", "1,000,000"),
        ("--people", "-1", "1,000,000"),
        ("--campaigns", "1000001", "1,000"),
        ("--seed", "99999999999999999999999", "9,223,372,036,854,775,807"),
    ],
)
def test_demo_arguments_are_bounded(in_tmp, argument, value, bound):
    done = run_cli("--db", str(in_tmp / "demo.db"), "demo", argument, value)
    assert done.returncode == 1
    assert done.stderr == f"campaigns: error: {argument} takes a number from 0 to {bound}\n"


def test_demo_refuses_a_database_with_real_data(fresh_db, capsys):
    """`demo` adds made-up people and campaigns only to an empty database or one demo made;
    `--force` adds them anyway."""
    from tui_app.cli import main

    f.lead(email="real.person@company.com")
    f.campaign("Spring newsletter")
    database.close()
    error = one_line_error(capsys, ["--db", str(fresh_db), "demo", "--people", "30"])
    assert "holds 1 person and 1 campaign that demo did not make" in error
    assert "--force" in error
    database.connect(reuse_if_open=True)
    assert Lead.select().count() == 1 and Campaign.select().count() == 1
    database.close()
    arguments = ["--db", str(fresh_db), "demo", "--people", "30", "--campaigns", "2", "--force"]
    assert main(arguments) == 0
    database.connect(reuse_if_open=True)
    assert Lead.select().count() > 1


def test_demo_adds_to_an_empty_or_demo_database(fresh_db):
    from tui_app.cli import main

    database.close()
    for _ in range(2):  # empty, then made by demo
        assert main(["--db", str(fresh_db), "demo", "--people", "30", "--campaigns", "2"]) == 0
    database.connect(reuse_if_open=True)
    assert Campaign.select().count() == 2  # the same names are not made twice
    assert Lead.select().count() + Campaign.select().count() > 30


def test_the_demo_option_never_fills_a_database_with_real_data(fresh_db):
    """`--demo --db real.db` opens it as it is: the demo is made only in an empty database."""
    from tui_app.cli import main

    f.lead(email="real.person@company.com")
    database.close()
    assert main(["--demo", "--db", str(fresh_db), "campaign", "list", "--json"]) == 0
    database.connect(reuse_if_open=True)
    assert Lead.select().count() == 1 and Campaign.select().count() == 0
