"""What the database driver says reaches a user as one line, never as a traceback, and text the
two backends treat differently (NUL characters, lengths) follows one rule on both; a password
in a URL is never printed."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from data.db import describe, safe_location
from data.models import Lead, Suppression
from tests.conftest import _close, _pg_admin
from tui_app.cli import main

LEADS_HEADER = "First Name,Last Name,Email,Company\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


# Passwords in URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:SECRETPW9@db.example:5432/camp",
        "postgresql://db.example/camp?password=SECRETPW9&connect_timeout=x",
        "postgresql:///camp?user=u&password=SECRETPW9&host=/run/pg",
        "postgresql:///camp?user=u&PASSWORD=SECRETPW9",
        "postgresql:///camp?user=u&pass%77ord=SECRETPW9",
        "postgres://u:SECRETPW9@db.example/camp?password=SECRETPW9",
    ],
)
def test_a_password_anywhere_in_a_url_is_masked(url):
    shown = safe_location(url)
    assert "SECRETPW9" not in shown
    assert "***" in shown


def test_a_url_without_a_password_is_shown_as_it_is():
    for url in ("postgresql://u@db.example/camp?connect_timeout=3", "/home/ana/campaigns.db"):
        assert safe_location(url) == url


def test_the_cli_never_prints_a_password_from_the_query_string(capsys):
    """A server that cannot be reached: the URL in the error has its password masked."""
    status, _, err = run(
        capsys,
        "campaign",
        "list",
        "--db",
        "postgresql://nobody@127.0.0.1:9/camp?password=SECRETPW9&connect_timeout=1",
    )
    assert status == 1
    assert "SECRETPW9" not in err


# One rule for text the backends treat differently ------------------------------------------------


def test_a_nul_character_in_an_import_is_a_bad_row_on_both_backends(fresh_db, tmp_path, capsys):
    """PostgreSQL refuses NUL in text (a DataError traceback) and SQLite stored it: both now
    report the line, and --skip-invalid imports the others."""
    path = tmp_path / "leads.csv"
    path.write_text(
        LEADS_HEADER
        + "Ana,Silva,ana@example.com,Acme\n"
        + "Nul,Byte\x00,nul@example.com,Acme\n"
        + "Ben,Okafor,ben@example.com,Globex\n"
    )
    status, _, err = run(capsys, "import", "leads", str(path), "--db", str(fresh_db))
    assert status == 1
    assert "line 3: last name contains a NUL character" in err
    status, out, err = run(
        capsys, "import", "leads", str(path), "--db", str(fresh_db), "--skip-invalid"
    )
    assert status == 0, err
    assert "created 2" in out
    _close()
    from data.db import open_database

    open_database(str(fresh_db))
    assert not Lead.select().where(Lead.email == "nul@example.com").exists()


def test_a_suppression_reason_too_long_is_one_line_on_both_backends(fresh_db, capsys):
    """SQLite accepted 510 characters and PostgreSQL traced back (StringDataRightTruncation)."""
    status, _, err = run(
        capsys,
        "suppression",
        "add",
        "ana@example.com",
        "--reason",
        "x" * 510,
        "--db",
        str(fresh_db),
    )
    assert status == 1
    assert last_line(err) == "campaigns: error: reason is longer than 255 characters"
    assert not Suppression.select().exists()


def test_a_lift_reason_too_long_is_one_line_on_both_backends(fresh_db, capsys):
    run(capsys, "suppression", "add", "ana@example.com", "--reason", "asked", "--db", str(fresh_db))
    status, _, err = run(
        capsys,
        "suppression",
        "lift",
        "ana@example.com",
        "--reason",
        "y" * 300,
        "--db",
        str(fresh_db),
    )
    assert status == 1
    assert last_line(err) == "campaigns: error: lifted reason is longer than 255 characters"


# A role that may only read -----------------------------------------------------------------------


@pytest.fixture
def read_only_url(fresh_db, backend):
    """The test database as a role that may connect and read but not write (PostgreSQL)."""
    if backend != "postgresql":
        pytest.skip("roles are a server's")
    import psycopg

    role = f"cm_reader_{os.getpid()}"
    name = urlsplit(str(fresh_db)).path.lstrip("/")
    _pg_admin(f"DROP ROLE IF EXISTS {role}")
    _pg_admin(f"CREATE ROLE {role} LOGIN")
    with psycopg.connect(str(fresh_db), autocommit=True) as conn:
        conn.execute(f"GRANT CONNECT ON DATABASE {name} TO {role}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    parts = urlsplit(str(fresh_db))
    yield parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}").geturl()
    _close()
    with psycopg.connect(str(fresh_db), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
    _pg_admin(f"DROP ROLE IF EXISTS {role}")


def test_a_read_only_role_gets_one_line_from_every_write(read_only_url, tmp_path, capsys):
    """`import leads`, `suppression add` and an ingest whose events are all rejected used to
    print psycopg.errors.InsufficientPrivilege with a traceback."""
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS_HEADER + "Ana,Silva,ana@example.com,Acme\n")
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "nonsense"}\n{"no": "fields"}\n')
    for argv in (
        ["import", "leads", str(leads)],
        ["suppression", "add", "ana@example.com", "--reason", "asked"],
        ["ingest", str(events)],
    ):
        status, _, err = run(capsys, *argv, "--db", read_only_url)
        assert status == 1, argv
        line = last_line(err)
        assert line.startswith("campaigns: error: "), argv
        assert "read-only" in line and "permission denied" in line, line


# describe -----------------------------------------------------------------------------------------


def test_describe_names_what_the_backends_refuse_in_a_users_words():
    class Fake(Exception):
        pass

    assert "NUL" in describe(Fake("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    assert "too long" in describe(Fake("value too long for type character varying(255)"))
