"""What the app remembers for its user between runs, and where it proposes to save a file.

The settings are a small JSON file in the user's state folder (the counterpart of the data folder
that holds the default database), readable by the user only. A settings file that is missing,
unreadable or not ours is as good as none: remembering is a convenience, never a reason to fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from data.files import private_file, read_small_file

APP_DIR_NAME = "campaign-members"
"""The name of the app's per-user folders (data, state), as platformdirs spells them."""

SAVE_FOLDER = "save_folder"
"""The setting that holds the folder the user last saved a file in."""


def settings_path() -> Path:
    """The settings file: `settings.json` in the user's state folder ($XDG_STATE_HOME)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP_DIR_NAME, appauthor=False)) / "settings.json"


SETTINGS_LIMIT = 64 * 1024
"""The largest settings file read (64 KiB; ours is a few lines): a bigger one is not ours."""


def read_settings(path: Path | None = None) -> dict[str, Any]:
    """The remembered settings; empty when the file is missing, unreadable, not a regular file
    (a link, a FIFO: never followed, never waited on), over SETTINGS_LIMIT, or not a JSON
    object (nested too deep to parse included)."""
    data = read_small_file(path or settings_path(), SETTINGS_LIMIT)
    if data is None:
        return {}
    try:
        values = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # a decoding error is a ValueError too
        return {}
    return values if isinstance(values, dict) else {}


def write_settings(values: dict[str, Any], path: Path | None = None) -> None:
    """Replace the settings file at once (a reader never sees half of it), readable by the user
    only, as every file the product writes (`private_file`)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with private_file(path) as out:
        json.dump(values, out, indent=2)


def remembered_folder(path: Path | None = None) -> Path | None:
    """The folder the user last saved a file in, if it is still an absolute path to a folder."""
    folder = read_settings(path).get(SAVE_FOLDER)
    if not isinstance(folder, str) or not folder:
        return None
    try:
        chosen = Path(folder)
        return chosen if chosen.is_absolute() and chosen.is_dir() else None
    except (OSError, ValueError):  # a NUL byte, a name too long: not a folder we can use
        return None


def remember_folder(folder: Path, path: Path | None = None) -> None:
    """Keep `folder` as the one to propose next time, in this run and the next. A state folder
    that cannot be written only means it is not remembered: the file itself was saved."""
    values = read_settings(path)
    values[SAVE_FOLDER] = str(folder.absolute())
    try:
        write_settings(values, path)
    except OSError:
        pass


def documents_folder() -> Path:
    """The user's documents folder ($XDG_DOCUMENTS_DIR, else ~/Documents) when it exists, else
    the current folder."""
    from platformdirs import user_documents_dir

    folder = Path(user_documents_dir())
    return folder if folder.is_dir() else Path.cwd()


def save_folder(default: Path | None = None, path: Path | None = None) -> Path:
    """Where the app proposes to save a file: the folder the user last saved in, else `default`
    (a folder fixed for the run, as tests do), else the user's documents folder."""
    return remembered_folder(path) or default or documents_folder()
