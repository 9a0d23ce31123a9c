"""Small dialogs shared by the screens: confirm, choose one of a list, show a message, ask
where to save a file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from data.files import FileRefused, WriteCancelled, cancelled_by, typed_path, writable_target
from data.settings import remember_folder
from screens.base import AppModal
from tui_app.widgets.formatting import literal
from tui_app.widgets.work import writes


def heading(title: str | Text) -> Text:
    text = literal(title).copy()
    text.stylize("bold")
    return text


class ConfirmScreen(AppModal[bool]):
    """Ask before doing something that cannot be undone; dismisses with True or False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str | Text, body: str | Text, confirm: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(heading(self.title_text), classes="dialog-title")
            yield Static(literal(self.body), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm} (y)", variant="primary", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ChoiceScreen(AppModal[str | None]):
    """Pick one of a list of choices (enter), or cancel (escape); dismisses with the choice's id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str | Text,
        choices: list[tuple[str, str | Text]],
        note: str | Text = "",
        unavailable: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.note = note
        self.unavailable = unavailable
        """Choices shown but not offered (their prompt says why)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(heading(self.title_text), classes="dialog-title")
            if self.note:
                yield Static(literal(self.note), classes="dialog-body")
            if self.choices:
                yield OptionList(
                    *[
                        Option(literal(prompt), id=key, disabled=key in self.unavailable)
                        for key, prompt in self.choices
                    ],
                    id="choices",
                )
            else:
                yield Static("Nothing to choose from.", classes="dialog-body")
            yield Static(Text("enter choose · escape cancel", style="dim"))

    def on_mount(self) -> None:
        for options in self.query(OptionList):
            options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MessageScreen(AppModal[None]):
    """Show the outcome of something that took a while; any of enter/escape closes it."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str | Text, body: str | Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(heading(self.title_text), classes="dialog-title")
            yield Static(literal(self.body), classes="dialog-body")
            yield Button("OK (enter)", variant="primary", id="ok")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class SaveFileScreen(AppModal[Path | None]):
    """Ask where to write a file before writing it: the box holds the proposed path (the folder
    the user last saved in, else their documents folder, and `name`), enter writes it there with
    `save` (on a worker; it returns what to tell the user), escape cancels. A path that cannot be
    written is one line under the box, and the dialog stays open to fix it. Dismisses with the
    path written, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    SaveFileScreen #save-problem { height: auto; margin-bottom: 1; }
    SaveFileScreen.-short #save-problem { margin-bottom: 0; }
    """

    class Saved(Message):
        def __init__(self, path: Path, text: str) -> None:
            super().__init__()
            self.path = path
            self.text = text

    class Refused(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self, title: str | Text, name: str, save: Callable[[Path], str], note: str | Text = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.file_name = name
        self.save = save
        self.note = note
        self.replacing: Path | None = None
        """An existing file the user was told about: enter again replaces it."""
        self.saving = False
        self.stop = threading.Event()
        """Set to abandon the write under way (esc while saving)."""

    def compose(self) -> ComposeResult:
        proposed = self.app.files_folder() / self.file_name
        with Vertical(classes="dialog"):
            yield Label(heading(self.title_text), classes="dialog-title")
            if self.note:
                yield Static(literal(self.note), classes="dialog-body")
            yield Input(value=str(proposed), id="save-path")
            yield Static(id="save-problem", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (enter)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    def _problem(self, text: str | Text) -> None:
        self.query_one("#save-problem", Static).update(literal(text))

    def chosen(self) -> Path | None:
        """The path typed, if a file can be written there; else None, with the reason shown. A
        name without a folder goes in the proposed folder; `~` is the user's home. Only a
        regular file (or a new one) is written: a link, a pipe or a device is refused."""
        typed = self.query_one("#save-path", Input).value.strip()
        if not typed:
            self._problem("Type the path of the file to write.")
            return None
        try:
            path = typed_path(typed, self.app.files_folder())
            writable_target(path)
            if path.exists() and path != self.replacing:
                self.replacing = path
                self._problem(f"{path.name} already exists: enter again to replace it.")
                return None
        except FileRefused as refused:  # a link, a pipe, a folder, no folder
            self._problem(refused.strerror)
            return None
        except (OSError, ValueError) as exc:  # a NUL byte, a name too long, ~nosuchuser
            self._problem(f"Cannot write {typed}: {getattr(exc, 'strerror', None) or exc}")
            return None
        return path

    @on(Input.Changed, "#save-path")
    def _typed(self) -> None:
        if not self.saving:
            self._problem("")

    @on(Input.Submitted, "#save-path")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        if self.saving:
            return
        path = self.chosen()
        if path is None:
            return
        self.saving = True
        self.stop = threading.Event()
        self._problem(Text("Saving… (esc cancels)", style="dim"))
        self._write(path, self.stop)

    @writes("save-file")
    def _write(self, path: Path, stop: threading.Event) -> None:
        try:
            with cancelled_by(stop):
                text = self.save(path)
        except WriteCancelled:
            return  # the dialog is gone; the file was left as it was
        except FileRefused as refused:  # something else came to be at the path meanwhile
            self.post_message(self.Refused(refused.strerror))
            return
        except OSError as exc:
            self.post_message(self.Refused(f"Cannot write {path}: {exc.strerror or exc}"))
            return
        remember_folder(path.parent)
        self.post_message(self.Saved(path, text))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.saving = False
        self.replacing = None
        self._problem(message.reason)

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.notify(message.text)
        self.dismiss(message.path)

    def work_failed(self, error: BaseException) -> None:
        self.saving = False
        self._problem("")
        super().work_failed(error)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.saving:  # the write under way stops and leaves the file as it was
            self.stop.set()
            self.notify("Save cancelled: the file was left as it was.")
        self.dismiss(None)
