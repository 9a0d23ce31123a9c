"""Long command-line work reports progress: the data services call `on_progress(done, total)`
with growing counts, and the command draws a bar on stderr only when stderr is a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import threading

import pytest

from data import status_import, transfer
from data.demo import generate
from data.enrollment import enroll
from data.ingest import ingest_stream
from data.status_import import import_statuses, read_status_rows
from data.transfer import export_members, import_people
from tests import factories as f


class Heard:
    """An `on_progress` that keeps what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))

    def assert_grows_to_the_end(self, minimum_calls: int = 2) -> None:
        assert len(self.calls) >= minimum_calls, self.calls
        done = [d for d, _ in self.calls]
        assert done == sorted(done) and done[0] < done[-1], self.calls
        assert all(0 <= d <= t for d, t in self.calls), self.calls
        assert self.calls[-1][0] == self.calls[-1][1], self.calls


def test_demo_generation_reports_each_step(fresh_db):
    heard = Heard()
    generate(people=200, campaigns=4, seed=3, on_progress=heard)
    heard.assert_grows_to_the_end(minimum_calls=4)
    assert heard.calls[-1] == (5, 5)  # the people, then each campaign


def _leads_csv(count: int) -> str:
    return "email,last_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(count))


def test_people_import_reports_rows_written(fresh_db, monkeypatch):
    monkeypatch.setattr(transfer, "IMPORT_CHUNK", 2)
    heard = Heard()
    report = import_people("lead", io.StringIO(_leads_csv(5)), on_progress=heard)
    assert report.created == 5
    assert heard.calls == [(2, 10), (4, 10), (5, 10), (10, 10)]  # written, then followed


def test_people_import_keeps_reporting_while_suppression_follows_the_addresses(
    fresh_db, monkeypatch
):
    """A million-row import used to sit at 100 % while its addresses' suppression was followed
    in one silent step; each chunk of addresses is now reported."""
    from data import suppression

    monkeypatch.setattr(suppression, "ADDRESS_CHUNK", 2)
    heard = Heard()
    import_people("lead", io.StringIO(_leads_csv(5)), on_progress=heard)
    assert heard.calls == [(5, 10), (7, 10), (9, 10), (10, 10)]


def test_status_import_reports_rows_done(fresh_db, monkeypatch):
    monkeypatch.setattr(status_import, "BATCH", 2)
    campaign = f.campaign("Spring")
    rows = read_status_rows(
        io.StringIO("email,status\n" + "".join(f"x{i}@example.com,Opened\n" for i in range(5)))
    )
    heard = Heard()
    import_statuses(campaign, rows, on_progress=heard)
    assert heard.calls == [(2, 5), (4, 5), (5, 5)]


def test_export_reports_rows_written_of_the_count(fresh_db, monkeypatch):
    monkeypatch.setattr(transfer, "EXPORT_REPORT_EVERY", 2)
    for _ in range(5):
        f.lead()
    campaign = f.campaign("Spring")
    enroll(campaign)
    heard = Heard()
    assert export_members(campaign, "all", io.StringIO(), on_progress=heard) == 5
    assert heard.calls == [(2, 5), (4, 5), (5, 5)]


def _events(count: int) -> str:
    return "".join(
        json.dumps({"type": "open", "campaign": "Spring", "email": f"e{i}@example.com"}) + "\n"
        for i in range(count)
    )


def test_file_ingest_reports_bytes_read_of_the_size(fresh_db, tmp_path):
    f.campaign("Spring")
    path = tmp_path / "events.jsonl"
    path.write_text(_events(6))
    size = path.stat().st_size
    heard = Heard()
    with open(path, "rb") as stream:
        ingest_stream(stream, batch_size=2, on_progress=heard)
    heard.assert_grows_to_the_end(minimum_calls=3)
    assert heard.calls[-1] == (size, size)
    assert {total for _, total in heard.calls} == {size}


def test_a_stream_of_unknown_size_reports_nothing(fresh_db):
    heard = Heard()
    ingest_stream(io.BytesIO(_events(3).encode()), batch_size=1, on_progress=heard)
    assert heard.calls == []


# The command line --------------------------------------------------------------------------------


def _env(location) -> dict:
    return {**os.environ, "CAMPAIGNS_DB": str(location), "TERM": "xterm", "COLUMNS": "100"}


def _files(tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text(_leads_csv(50))
    events = tmp_path / "events.jsonl"
    events.write_text(_events(20))
    statuses = tmp_path / "statuses.csv"
    statuses.write_text("email,status\n" + "".join(f"p{i}@example.com,Opened\n" for i in range(9)))
    return leads, events, statuses


BAR_MARKS = ("━", "\x1b", "generating", "importing", "ingesting", "exporting", "setting")


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_piped_output_carries_no_progress(fresh_db, tmp_path, json_flag):
    leads, events, statuses = _files(tmp_path)
    commands = [
        ["demo", "--people", "60", "--campaigns", "2"],
        ["import", "leads", str(leads)],
        ["ingest", str(events)],
        ["members", "set-status", "Spring Product Webinar", str(statuses)],
        ["export", "members", "Spring Product Webinar", "-o", str(tmp_path / "out.csv")],
        ["export", "members", "Spring Product Webinar"],
    ]
    for command in commands:
        if json_flag and command[0] == "export":
            continue  # export writes CSV, there is no --json for it
        proc = subprocess.run(
            [sys.executable, "-m", "tui_app", *command, *json_flag],
            capture_output=True,
            text=True,
            env=_env(fresh_db),
            timeout=120,
        )
        assert proc.returncode == 0, (command, proc.stderr)
        for mark in BAR_MARKS:
            assert mark not in proc.stderr, (command, proc.stderr)
            assert mark not in proc.stdout or mark == "━", (command, proc.stdout)


def _run_with_terminal_stderr(location, *args: str) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal (stdout a pipe); its exit status, what
    reached the terminal and what reached stdout."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_app", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=_env(location),
    )
    os.close(terminal)
    seen = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end is closed: the process has ended
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    stdout, _ = proc.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(controller)
    return proc.returncode, seen.decode("utf-8", "replace"), stdout.decode()


def test_a_terminal_sees_a_progress_bar_and_the_result_stays_plain(fresh_db, tmp_path):
    _, events, _ = _files(tmp_path)
    status, terminal, stdout = _run_with_terminal_stderr(
        fresh_db, "demo", "--people", "60", "--campaigns", "2"
    )
    assert status == 0, terminal
    assert "generating demo data" in terminal and "━" in terminal
    assert stdout.startswith("accounts ") and "\x1b" not in stdout
    status, terminal, stdout = _run_with_terminal_stderr(fresh_db, "ingest", str(events))
    assert status == 0, terminal
    assert "ingesting" in terminal and "━" in terminal
    assert stdout.startswith("applied ") and "\x1b" not in stdout
    status, terminal, stdout = _run_with_terminal_stderr(fresh_db, "ingest", str(events), "--json")
    assert status == 0 and terminal == ""  # --json: nothing extra, even on a terminal
    assert json.loads(stdout)["duplicates"] == 0
