"""The settings file: what the app remembers between runs (the folder last saved in), private
to the user, and never a reason to fail when it is damaged."""

from __future__ import annotations

import json

import pytest

from data.settings import (
    SAVE_FOLDER,
    documents_folder,
    read_settings,
    remember_folder,
    remembered_folder,
    save_folder,
    settings_path,
    write_settings,
)


def test_the_settings_live_in_the_users_state_folder(settings_home):
    assert settings_path() == settings_home / "settings.json"


def test_nothing_remembered_at_first(settings_home):
    assert read_settings() == {}
    assert remembered_folder() is None


def test_a_remembered_folder_is_read_back_and_private(settings_home, tmp_path):
    remember_folder(tmp_path)
    assert remembered_folder() == tmp_path
    assert oct(settings_path().stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in settings_home.iterdir()] == ["settings.json"]  # no temporary left


def test_writing_keeps_the_other_settings(settings_home, tmp_path):
    write_settings({"theme": "dark"})
    remember_folder(tmp_path)
    assert read_settings() == {"theme": "dark", SAVE_FOLDER: str(tmp_path)}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b'["a", "list"]',
        b'{"save_folder": 42}',
        b'{"save_folder": "relative/folder"}',
        b'{"save_folder": "/no/such/folder/anywhere"}',
        b'{"save_folder": "/tmp/with\\u0000nul"}',
        b'{"save_folder": ""}',
        b"",
    ],
)
def test_a_damaged_settings_file_is_ignored(settings_home, tmp_path, content):
    settings_home.mkdir(parents=True)
    settings_path().write_bytes(content)
    assert remembered_folder() is None
    assert save_folder(tmp_path) == tmp_path
    remember_folder(tmp_path)  # and is replaced by the next save
    assert remembered_folder() == tmp_path


def test_an_unreadable_settings_file_is_ignored(settings_home, tmp_path):
    settings_path().mkdir(parents=True)  # a folder where the file should be
    assert read_settings() == {}
    remember_folder(tmp_path)  # cannot be written either: not remembered, no error
    assert remembered_folder() is None


def test_a_state_folder_that_cannot_be_made_only_forgets(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    remember_folder(tmp_path)
    assert remembered_folder() is None


def test_the_proposed_folder_remembered_then_fixed_then_documents(
    settings_home, tmp_path, monkeypatch
):
    documents, fixed, chosen = (tmp_path / name for name in ("Documents", "fixed", "chosen"))
    for folder in (documents, fixed, chosen):
        folder.mkdir()
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(documents))
    assert save_folder() == documents
    assert save_folder(fixed) == fixed
    remember_folder(chosen)
    assert save_folder(fixed) == chosen == save_folder()
    chosen.rmdir()  # a remembered folder that is gone is passed over
    assert save_folder(fixed) == fixed


def test_without_a_documents_folder_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "missing"))
    monkeypatch.chdir(tmp_path)
    assert documents_folder() == tmp_path


def test_the_file_is_json_a_person_can_read(settings_home, tmp_path):
    remember_folder(tmp_path)
    assert json.loads(settings_path().read_text()) == {SAVE_FOLDER: str(tmp_path)}
