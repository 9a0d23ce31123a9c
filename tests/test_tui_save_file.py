"""Saving a file from the app asks where: the export (x) and the rejected events' save propose
the folder last saved in (else the documents folder) and remember the one chosen."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from textual.widgets import Input, Static

from data.campaigns import find_campaign
from data.ingest import ingest_stream
from data.members import member_count
from data.settings import SAVE_FOLDER, read_settings
from screens.campaign_detail import CampaignDetailScreen
from screens.event_history import RejectedEventsScreen
from screens.modals import SaveFileScreen
from tests.conftest import FIXED_NOW
from tests.pilot import SIZE, settle
from tests.test_tui_campaign_detail import ROADSHOW, open_detail
from tests.test_tui_events import BAD_EVENTS

SMALL = (80, 24)
STAMP = FIXED_NOW.strftime("%Y%m%d-%H%M%S")
PROPOSED = f"emea-roadshow-all-{STAMP}.csv"
FIXED_FOLDER = Path("/srv/exports")
"""The folder the snapshots propose (it need not exist to be shown)."""


async def keys(pilot, *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


async def export_dialog(pilot) -> SaveFileScreen:
    await open_detail(pilot)
    await keys(pilot, "x")
    assert isinstance(pilot.app.screen, SaveFileScreen)
    return pilot.app.screen


def typed_path(app) -> str:
    return app.screen.query_one("#save-path", Input).value


def problem(app) -> str:
    return str(app.screen.query_one("#save-problem", Static).render())


async def type_path(pilot, path: Path | str) -> None:
    pilot.app.screen.query_one("#save-path", Input).value = str(path)
    await keys(pilot, "enter")


def csv_emails(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return [row["email"] for row in csv.DictReader(handle)]


async def test_enter_saves_where_proposed_and_remembers_the_folder(make_tui, tmp_path):
    """The dialog proposes the folder and today's name; enter writes there, readable by the
    user only, and the folder is remembered."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        assert typed_path(app) == str(tmp_path / PROPOSED)
        await keys(pilot, "enter")
        assert isinstance(app.screen, CampaignDetailScreen)
        assert any(PROPOSED in n.message for n in app._notifications)
    path = tmp_path / PROPOSED
    assert len(csv_emails(path)) == member_count(find_campaign(ROADSHOW).id, "all")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert read_settings()[SAVE_FOLDER] == str(tmp_path)


async def test_an_edited_path_is_written_and_its_folder_proposed_next_run(make_tui, tmp_path):
    elsewhere = tmp_path / "chosen"
    elsewhere.mkdir()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        await type_path(pilot, elsewhere / "roadshow.csv")
        assert isinstance(app.screen, CampaignDetailScreen)
    assert csv_emails(elsewhere / "roadshow.csv")
    assert not list(tmp_path.glob("*.csv"))

    again = make_tui()  # the next run of the app: the folder chosen is proposed
    async with again.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        assert typed_path(again) == str(elsewhere / PROPOSED)


async def test_a_bare_name_goes_in_the_proposed_folder(make_tui, tmp_path):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        await type_path(pilot, "short.csv")
    assert csv_emails(tmp_path / "short.csv")


async def test_paths_that_cannot_be_written_are_explained_and_the_dialog_stays(make_tui, tmp_path):
    """A missing folder, a folder given as the file, a name the system refuses: one line
    each, the dialog open to fix it, nothing written; then a good path saves."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await export_dialog(pilot)
        await type_path(pilot, tmp_path / "missing" / "out.csv")
        assert problem(app) == f"There is no folder {tmp_path / 'missing'}."
        await type_path(pilot, tmp_path)
        assert problem(app) == f"{tmp_path} is a folder: add a file name to it."
        await type_path(pilot, tmp_path / ("x" * 300 + ".csv"))  # longer than a name may be
        assert problem(app).startswith("Cannot write ")
        assert "File name too long" in problem(app)
        await type_path(pilot, "")
        assert problem(app) == "Type the path of the file to write."
        assert app.screen is dialog
        assert not list(tmp_path.rglob("*.csv"))
        await type_path(pilot, tmp_path / "fixed.csv")
        assert isinstance(app.screen, CampaignDetailScreen)
    assert csv_emails(tmp_path / "fixed.csv")
    assert read_settings()[SAVE_FOLDER] == str(tmp_path)


async def test_an_existing_file_is_replaced_only_on_a_second_enter(make_tui, tmp_path):
    existing = tmp_path / "kept.csv"
    existing.write_text("mine\n")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await export_dialog(pilot)
        await type_path(pilot, existing)
        assert problem(app) == "kept.csv already exists: enter again to replace it."
        assert app.screen is dialog and existing.read_text() == "mine\n"
        await keys(pilot, "enter")
        assert isinstance(app.screen, CampaignDetailScreen)
    assert csv_emails(existing)


async def test_escape_cancels_and_writes_nothing(make_tui, tmp_path):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        await keys(pilot, "escape")
        assert isinstance(app.screen, CampaignDetailScreen)
    assert not list(tmp_path.rglob("*.csv"))
    assert read_settings() == {}


async def test_without_a_fixed_folder_the_documents_folder_is_proposed(
    demo_db, tmp_path, monkeypatch
):
    """The app's own default: the user's documents folder, never the folder it was started in."""
    from tui_app.app import make_app

    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(documents))
    monkeypatch.chdir(tmp_path)
    app = make_app(str(demo_db), now=FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        assert typed_path(app) == str(documents / PROPOSED)


async def test_rejected_events_are_saved_where_the_user_says(make_tui, tmp_path):
    ingest_stream(io.StringIO(BAD_EVENTS), now=FIXED_NOW)
    (tmp_path / "remembered").mkdir()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "r", "x")
        assert typed_path(app) == str(tmp_path / f"rejected-events-{STAMP}.jsonl")
        await type_path(pilot, tmp_path / "nowhere" / "events.jsonl")
        assert problem(app).startswith("There is no folder")
        await type_path(pilot, tmp_path / "remembered" / "events.jsonl")
        assert isinstance(app.screen, RejectedEventsScreen)
    saved = tmp_path / "remembered" / "events.jsonl"
    assert len(saved.read_text().splitlines()) == 5
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert read_settings()[SAVE_FOLDER] == str(tmp_path / "remembered")


async def test_status_import_reads_a_bare_name_from_the_remembered_folder(make_tui, tmp_path):
    """The status import looks for a name without a folder where files were last saved."""
    folder = tmp_path / "remembered"
    folder.mkdir()
    (folder / "attendance.csv").write_text("email,status\n")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await export_dialog(pilot)
        await type_path(pilot, folder / "out.csv")
        screen = app.screen
        assert isinstance(screen, CampaignDetailScreen)
        screen.action_import_statuses()
        await settle(pilot)
        app.screen.query_one("#import-path", Input).value = "attendance.csv"
        assert app.screen._path() == str(folder / "attendance.csv")


async def dialog_with_a_fixed_folder(pilot) -> None:
    await export_dialog(pilot)
    pilot.app.clear_notifications()
    await settle(pilot)


def test_save_dialog_snapshot(snap_compare, make_tui):
    assert snap_compare(
        make_tui(export_dir=FIXED_FOLDER), terminal_size=SIZE, run_before=dialog_with_a_fixed_folder
    )


async def refused_at_80x24(pilot) -> None:
    await dialog_with_a_fixed_folder(pilot)
    await type_path(pilot, FIXED_FOLDER / "missing" / "out.csv")


def test_save_dialog_snapshot_at_80x24(snap_compare, make_tui):
    """At 80x24 the path, the reason it cannot be written and both buttons are on screen."""
    assert not os.path.exists(FIXED_FOLDER / "missing")
    assert snap_compare(
        make_tui(export_dir=FIXED_FOLDER), terminal_size=SMALL, run_before=refused_at_80x24
    )
