"""Files the product writes and reads, tried as an attacker and a clumsy user would: links, FIFOs,
/proc paths, other users' homes, hostile settings files, Latin-1 and huge CSV cells. Every file
with personal data is a new 0600 file renamed over its target; anything else is one line."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from data.files import WriteCancelled, private_file, read_small_file
from data.settings import SAVE_FOLDER, read_settings, remembered_folder, settings_path
from screens.campaign_detail import CampaignDetailScreen
from screens.modals import SaveFileScreen
from screens.status_import import StatusImportScreen
from tests.pilot import SIZE, settle, wait_until
from tests.test_tui_campaign_detail import ROADSHOW
from tests.test_tui_save_file import PROPOSED, export_dialog, keys, problem, type_path
from tui_app.cli import main

PERSONAL = "ana@example.com"


def mode(path: Path) -> str:
    return oct(path.lstat().st_mode & 0o777)


def export(db, output: Path | str, capsys) -> tuple[int, str]:
    status = main(["export", "members", ROADSHOW, "--db", str(db), "-o", str(output)])
    return status, capsys.readouterr().err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# Exports: never through a link, always 0600, only regular files ---------------------------------


def test_export_refuses_a_link_and_leaves_its_target_alone(demo_db, tmp_path, capsys):
    """`export -o link.csv` where the link points to another file used to overwrite that file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    status, err = export(demo_db, link, capsys)
    assert status == 1
    assert "is a link" in one_line(err)
    assert victim.read_text() == "keep me\n"
    assert link.is_symlink()


def test_export_refuses_a_dangling_link_and_creates_nothing_through_it(demo_db, tmp_path, capsys):
    target = tmp_path / "elsewhere" / "made.csv"
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "dangling.csv"
    link.symlink_to(target)
    status, err = export(demo_db, link, capsys)
    assert status == 1 and "is a link" in one_line(err)
    assert not target.exists()


def test_export_over_an_existing_world_readable_file_leaves_it_private(demo_db, tmp_path, capsys):
    existing = tmp_path / "members.csv"
    existing.write_text("old\n")
    existing.chmod(0o644)
    status, _ = export(demo_db, existing, capsys)
    assert status == 0
    assert mode(existing) == "0o600"
    assert existing.read_text().startswith("email,")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_to_a_fifo_is_refused_at_once(demo_db, tmp_path, capsys):
    """A FIFO used to hang the export (nobody reads it); now one line, nothing opened."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    status, err = export(demo_db, fifo, capsys)
    assert status == 1 and "not a regular file" in one_line(err)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_failed_write_leaves_the_target_as_it_was_and_no_partial_file(tmp_path):
    target = tmp_path / "kept.jsonl"
    target.write_text("before\n")
    with pytest.raises(RuntimeError), private_file(target) as out:
        out.write("half of it\n")
        raise RuntimeError("the database went away")
    assert target.read_text() == "before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.jsonl"]


async def test_the_apps_export_replaces_a_world_readable_file_with_a_private_one(
    make_tui, tmp_path
):
    """`x`, then enter twice over an existing 0644 file: the export is 0600."""
    existing = tmp_path / PROPOSED
    existing.write_text("old\n")
    existing.chmod(0o644)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        await keys(pilot, "enter")
        assert "already exists" in problem(app)
        await keys(pilot, "enter")
        assert isinstance(app.screen, CampaignDetailScreen)
    assert mode(existing) == "0o600"
    assert existing.read_text().startswith("email,")


async def test_the_save_dialog_refuses_links_fifos_and_proc_paths(make_tui, tmp_path):
    """A link (even dangling), a FIFO and /proc/self/fd/1 (the terminal) are one line each; the
    dialog stays, nothing is written, and no such folder is remembered."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / "link.csv").symlink_to(victim)
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await export_dialog(pilot)
        for name in ("link.csv", "dangling.csv"):
            await type_path(pilot, tmp_path / name)
            assert problem(app) == f"{tmp_path / name} is a link: give the path of the file itself."
        await type_path(pilot, tmp_path / "pipe.csv")
        assert "is not a regular file" in problem(app)
        await type_path(pilot, "/proc/self/fd/1")
        assert "is a link" in problem(app)
        assert app.screen is dialog
    assert victim.read_text() == "keep me\n"
    assert not (tmp_path / "nowhere.csv").exists()
    assert SAVE_FOLDER not in read_settings()


async def test_esc_cancels_a_save_under_way_and_leaves_the_file_as_it_was(make_tui, tmp_path):
    """A save that takes long (here: one that would write until stopped) ends with esc: the
    dialog closes at once, the file is left as it was, no partial file stays behind."""
    target = tmp_path / "slow.csv"
    target.write_text("before\n")
    started, give_up = threading.Event(), threading.Event()

    def slow_save(path: Path) -> str:
        with private_file(path) as out:
            started.set()
            while not give_up.wait(0.005):
                out.write("row\n")
        return "saved"

    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(SaveFileScreen("Slow", "slow.csv", slow_save))
        await settle(pilot)
        app.screen.query_one("#save-path", Input).value = str(target)
        await pilot.press("enter")  # already exists: enter again
        await pilot.press("enter")
        await wait_until(pilot, started.is_set)
        try:
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, SaveFileScreen))
        finally:
            give_up.set()
        await app.workers.wait_for_complete()
        assert any("cancelled" in n.message for n in app._notifications)
    assert target.read_text() == "before\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".saving")) == []


def test_a_write_stops_once_cancelled(tmp_path):
    from data.files import cancelled_by

    stop = threading.Event()
    with pytest.raises(WriteCancelled), cancelled_by(stop), private_file(tmp_path / "x") as out:
        out.write("one\n")
        stop.set()
        out.write("two\n")
    assert list(tmp_path.iterdir()) == []


# Paths a user types ----------------------------------------------------------------------------


async def test_another_users_home_that_does_not_exist_is_one_line_in_the_save_dialog(make_tui):
    """`~nosuchuser/x.csv` used to end the app (Could not determine home directory)."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await export_dialog(pilot)
        await type_path(pilot, "~nosuchuser/x.csv")
        assert app.screen is dialog
        assert problem(app) == (
            "Cannot write ~nosuchuser/x.csv: ~nosuchuser is nobody's home folder on this computer"
        )


async def test_another_users_home_that_does_not_exist_is_one_line_in_the_status_import(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from data.campaigns import find_campaign

        app.open_campaign(find_campaign(ROADSHOW).id)
        await settle(pilot)
        await keys(pilot, "i")
        assert isinstance(app.screen, StatusImportScreen)
        app.screen.query_one("#import-path", Input).value = "~nosuchuser/x.csv"
        await keys(pilot, "enter")
        assert isinstance(app.screen, StatusImportScreen)
        preview = str(app.screen.query_one("#import-preview", Static).render())
        assert "nobody's home folder" in preview


async def test_the_status_import_refuses_a_fifo_instead_of_waiting_on_it(make_tui, tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from data.campaigns import find_campaign

        app.open_campaign(find_campaign(ROADSHOW).id)
        await settle(pilot)
        await keys(pilot, "i")
        app.screen.query_one("#import-path", Input).value = "pipe.csv"
        await pilot.press("enter")
        preview = app.screen.query_one("#import-preview", Static)
        await wait_until(pilot, lambda: "regular file" in str(preview.render()))


# Hostile settings files --------------------------------------------------------------------------


def test_settings_nested_too_deep_are_ignored(settings_home):
    settings_home.mkdir(parents=True)
    settings_path().write_text("[" * 100_000)
    assert read_settings() == {}
    settings_path().write_text('{"save_folder": ' + "[" * 20_000 + "]" * 20_000 + "}")
    assert read_settings() == {}


def test_settings_that_link_to_dev_zero_are_not_read(settings_home):
    """A link to /dev/zero used to be read until memory ran out."""
    settings_home.mkdir(parents=True)
    settings_path().symlink_to("/dev/zero")
    assert read_settings() == {}
    assert remembered_folder() is None


def test_settings_that_link_to_a_real_folder_file_are_not_followed(settings_home, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(f'{{"save_folder": "{tmp_path}"}}')
    settings_home.mkdir(parents=True)
    settings_path().symlink_to(elsewhere)
    assert read_settings() == {}


def test_settings_that_are_a_fifo_do_not_block(settings_home):
    """A FIFO used to freeze the app on `x` (the read waited for a writer)."""
    settings_home.mkdir(parents=True)
    os.mkfifo(settings_path())
    done = threading.Event()
    result: list = []

    def read() -> None:
        result.append(read_settings())
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not done.wait(30):  # a guard against a hang, not a timing: the read never waits
        with open(settings_path(), "w"):  # free the reader
            pass
    assert result == [{}]


def test_a_settings_file_over_the_cap_is_ignored(settings_home, tmp_path):
    settings_home.mkdir(parents=True)
    padding = " " * (70 * 1024)
    settings_path().write_text(f'{{"save_folder": "{tmp_path}"}}{padding}')
    assert read_settings() == {}
    assert read_small_file(settings_path(), 100 * 1024) is not None


async def test_the_app_exports_past_a_settings_file_nested_too_deep(
    make_tui, settings_home, tmp_path
):
    """`'[' * 100000` in settings.json used to end the app on `x` (RecursionError)."""
    settings_home.mkdir(parents=True)
    settings_path().write_text("[" * 100_000)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        await keys(pilot, "enter")
        assert isinstance(app.screen, CampaignDetailScreen)
    assert (tmp_path / PROPOSED).exists()
    assert read_settings()[SAVE_FOLDER] == str(tmp_path)


# CSV import: bad lines are lines ---------------------------------------------------------------


LEADS_HEADER = b"First Name,Last Name,Email,Company\n"


def import_leads(db, path: Path, capsys, *options: str) -> tuple[int, str, str]:
    status = main(["import", "leads", str(path), "--db", str(db), *options])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_latin1_line_is_reported_with_its_number_and_can_be_skipped(fresh_db, tmp_path, capsys):
    """One Latin-1 line used to fail the whole import with no line number, even with
    --skip-invalid."""
    path = tmp_path / "leads.csv"
    path.write_bytes(
        LEADS_HEADER
        + b"Ana,Silva,ana@example.com,Acme\n"
        + "J\u00fcrgen,M\u00fcller,jm@example.com,Gr\u00fcn\n".encode("latin-1")
        + b"Ben,Okafor,ben@example.com,Globex\n"
    )
    status, _, err = import_leads(fresh_db, path, capsys)
    assert status == 1
    assert "Traceback" not in err
    assert "line 3: " in err and "UTF-8" in err
    assert "nothing was imported" in err
    status, out, err = import_leads(fresh_db, path, capsys, "--skip-invalid")
    assert status == 0, err
    assert "line 3: " in out and "created 2" in out


def test_a_huge_cell_is_reported_with_its_line_and_can_be_skipped(fresh_db, tmp_path, capsys):
    path = tmp_path / "leads.csv"
    path.write_bytes(
        LEADS_HEADER
        + b"Ana,Silva,ana@example.com,Acme\n"
        + b"Big,"
        + b"x" * (2 * 1024 * 1024)
        + b",big@example.com,Acme\n"
        + b"Ben,Okafor,ben@example.com,Globex\n"
    )
    status, _, err = import_leads(fresh_db, path, capsys)
    assert status == 1
    assert "line 3: " in err and "longer than" in err
    status, out, err = import_leads(fresh_db, path, capsys, "--skip-invalid")
    assert status == 0, err
    assert "line 3: " in out and "created 2" in out
