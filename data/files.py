"""The files the product writes and reads beside its database: one way to write a file with
personal data in it (an export, the saved rejected events, the settings), one way to read a small
file that may be hostile (the settings), one way to read a path a user typed.

A file is written to a new file in its folder, readable by the user only from its first byte,
and renamed over the target when complete: a reader never sees half a file, an existing file's
mode (0644) is never kept, and a link is never written through. Only regular files are written:
a link, a FIFO or a device at the target is refused in one line, before anything is opened."""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

PRIVATE_MODE = 0o600
"""Files with personal data in them are readable and writable by their owner only."""


class FileRefused(OSError):
    """A path the product will not write (or read): `strerror` is one sentence that names it."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, str(path))
        self.strerror = reason

    def __str__(self) -> str:
        return self.reason

    @property
    def reason(self) -> str:
        return self.strerror or ""


class WriteCancelled(Exception):
    """The user cancelled a write under way; the target was left as it was."""


_stopping = threading.local()


@contextmanager
def cancelled_by(stop: threading.Event) -> Iterator[None]:
    """The files this thread writes inside the block are abandoned (the target left as it was)
    once `stop` is set: their next write raises WriteCancelled."""
    _stopping.event = stop
    try:
        yield
    finally:
        _stopping.event = None


def typed_path(typed: str, folder: Path) -> Path:
    """The path a user typed: `~` and `~user` are home folders, and a relative path is inside
    `folder`. A home that cannot be found is a ValueError with one readable line."""
    path = Path(typed)
    try:
        path = path.expanduser()
    except RuntimeError:  # "Could not determine home directory": ~nosuchuser, or no $HOME
        home = typed.split("/", 1)[0]
        raise ValueError(f"{home} is nobody's home folder on this computer") from None
    return path if path.is_absolute() else folder / path


def writable_target(path: str | os.PathLike) -> None:
    """Refuse, in one line, a target that is not a regular file or nothing yet: a link (even one
    pointing nowhere), a FIFO, a device, a folder. The folder it is in must exist."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        folder = Path(path).parent
        if not folder.is_dir():
            raise FileRefused(path, f"There is no folder {folder}.") from None
        return
    if stat.S_ISLNK(mode):
        raise FileRefused(path, f"{path} is a link: give the path of the file itself.")
    if stat.S_ISDIR(mode):
        raise FileRefused(path, f"{path} is a folder: add a file name to it.")
    if not stat.S_ISREG(mode):
        raise FileRefused(
            path, f"{path} is not a regular file (it is a pipe, a device or a socket)."
        )


class _StoppableWriter(io.TextIOWrapper):
    """A text file whose writes stop with WriteCancelled once its `stop` event is set."""

    stop: threading.Event | None = None

    def write(self, text: str) -> int:
        if self.stop is not None and self.stop.is_set():
            raise WriteCancelled
        return super().write(text)


@contextmanager
def private_file(path: str | os.PathLike, newline: str | None = None) -> Iterator[TextIO]:
    """Write text with personal data in it to `path`, as this module says: a new file in the
    same folder (mode 0600), renamed over `path` once the block ends without an error; on an
    error (or a cancel) the new file is removed and `path` is left as it was."""
    writable_target(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".saving-", suffix=".part")
    try:
        os.fchmod(fd, PRIVATE_MODE)
        out = _StoppableWriter(
            io.BufferedWriter(io.FileIO(fd, "w")), encoding="utf-8", newline=newline
        )
        out.stop = getattr(_stopping, "event", None)
        with out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if out.stop is not None and out.stop.is_set():
            raise WriteCancelled
        os.replace(temporary, path)  # a link put there meanwhile is replaced, not followed
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


SMALL_FILE_LIMIT = 1 << 20
"""The most `read_small_file` reads (1 MiB): far more than a settings file ever holds."""


def read_small_file(path: str | os.PathLike, limit: int = SMALL_FILE_LIMIT) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes; None for anything else (missing,
    a link, a FIFO, a device, too big, unreadable). Never follows a link, never blocks."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
            return None
        data = os.read(fd, limit + 1)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


def open_regular_text(path: str | os.PathLike) -> TextIO:
    """A regular file opened to read as text (UTF-8, a BOM skipped), never blocking on the way:
    a FIFO or a device is refused in one line instead of waiting for a writer that never comes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise FileRefused(path, f"{path} is a folder, not a file.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRefused(
                path, f"{path} is not a regular file (it is a pipe, a device or a socket)."
            )
        os.set_blocking(fd, True)
        return open(fd, encoding="utf-8-sig", newline="")
    except BaseException:
        os.close(fd)
        raise
