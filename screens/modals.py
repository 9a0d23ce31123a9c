"""Small dialogs shared by the screens: confirm, choose one of a list, show a message."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from screens.base import AppModal
from tui_app.widgets.formatting import literal


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
