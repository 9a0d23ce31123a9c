"""A campaign's member status labels: listed in order with their members, and edited by the
same rules as `campaigns statuses` (each refusal says which rule)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static

from data.engagement import LADDER, StatusLabel, StatusLadder
from data.labels import (
    add_label,
    campaign_ladder,
    label_counts,
    move_label,
    remove_label,
    rename_label,
    set_default,
)
from data.models import Campaign
from screens.base import AppModal, AppScreen
from screens.modals import ConfirmScreen
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import STATUS_STYLES, assemble, literal
from tui_app.widgets.messages import Notice
from tui_app.widgets.work import deliver, reads, writes

RULES = (
    "Each label counts as a rung (Sent, Opened, Clicked, Responded, Converted); along the list "
    "the rung never goes down. The default (★) is given on enrollment and counts as Sent. A "
    "member is only ever raised to a later label; a label is removed only while no member "
    "holds it."
)


class StatusLabelsScreen(AppScreen):
    """The labels of one campaign: a add · r rename · d remove · m make default ·
    shift+↑/↓ move within its rung."""

    class Loaded(Message):
        def __init__(self, campaign: Campaign, ladder: StatusLadder, counts: dict) -> None:
            super().__init__()
            self.campaign = campaign
            self.ladder = ladder
            self.counts = counts

    DEFAULT_CSS = """
    StatusLabelsScreen #labels-rules { height: auto; padding: 0 1 1 1; color: $text-muted; }
    StatusLabelsScreen DataTable { height: 1fr; }
    """

    AUTO_FOCUS = "DataTable"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add", "Add"),
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "remove", "Remove"),
        Binding("m", "make_default", "Make default"),
        Binding("shift+up", "move(-1)", "Move up"),
        Binding("shift+down", "move(1)", "Move down"),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.ladder = StatusLadder([])
        self.campaign_name = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="labels-title", classes="screen-title")
        yield Static(RULES, id="labels-rules")
        table: DataTable = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_column("Label", key="label", width=24)
        table.add_column("Counts as", key="counts_as", width=10)
        table.add_column("Responded", key="responded", width=9)
        table.add_column("Default", key="default", width=7)
        table.add_column("Members", key="members", width=9)
        yield table
        yield AppFooter()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def reread(self) -> None:
        self.load()

    def subject(self) -> type:
        return Campaign

    @reads("labels")
    def load(self) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        ladder = campaign_ladder(campaign)
        deliver(self, self.Loaded(campaign, ladder, label_counts([campaign.id])[campaign.id]))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.ladder = message.ladder
        self.campaign_name = message.campaign.name
        self.query_one("#labels-title", Static).update(
            assemble(("Member statuses of ", "bold"), (message.campaign.name, "bold"))
        )
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for label in message.ladder:
            table.add_row(
                literal(label.name, style="bold" if label.is_default else ""),
                Text(label.rung_name, style=STATUS_STYLES.get(label.rung_name, "")),
                "yes" if label.responded else "no",
                "★" if label.is_default else "",
                f"{message.counts.get(label.name, 0):,}",
                key=str(label.id),
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _current(self) -> StatusLabel | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.ladder.labels[min(table.cursor_row, len(self.ladder.labels) - 1)]

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_add(self) -> None:
        self.app.push_screen(LabelDialog("Add a status", counts_as=True), self._added)

    def _added(self, answer: tuple[str, int] | None) -> None:
        if answer is None:
            return
        name, rung = answer
        current = self._current()
        after = None
        if current is not None:
            labels = self.ladder.labels
            index = labels.index(current)
            following = labels[index + 1] if index + 1 < len(labels) else None
            fits = current.counts_as <= rung and (following is None or rung <= following.counts_as)
            after = current.name if fits else None
        self._write(lambda campaign: add_label(campaign, name, rung, after), f"Added {name}.")

    def action_rename(self) -> None:
        current = self._current()
        if current is not None:
            self.app.push_screen(
                LabelDialog(f"Rename {current.name}", name=current.name),
                lambda answer: (
                    self._write(
                        lambda campaign: rename_label(campaign, current.name, answer[0]),
                        f"Renamed {current.name} to {answer[0].strip()}.",
                    )
                    if answer
                    else None
                ),
            )

    def action_remove(self) -> None:
        current = self._current()
        if current is None:
            return
        self.app.push_screen(
            ConfirmScreen(
                "Remove status?",
                assemble("Remove ", (current.name, "bold"), " from this campaign's statuses?"),
                confirm="Remove",
            ),
            lambda yes: (
                self._write(
                    lambda campaign: remove_label(campaign, current.name),
                    f"Removed {current.name}.",
                )
                if yes
                else None
            ),
        )

    def action_make_default(self) -> None:
        current = self._current()
        if current is not None:
            self._write(
                lambda campaign: set_default(campaign, current.name),
                f"{current.name} is now the default.",
            )

    def action_move(self, step: int) -> None:
        current = self._current()
        if current is not None:
            table = self.query_one(DataTable)
            target = table.cursor_row + step
            self._write(lambda campaign: move_label(campaign, current.name, step), "")
            if 0 <= target < table.row_count:
                table.move_cursor(row=target)

    @writes("label-write")
    def _write(self, edit, done: str) -> None:
        edit(Campaign.get_by_id(self.campaign_id))
        self.post_message(Notice(done or "Moved.", changed=True))


class LabelDialog(AppModal[tuple[str, int] | None]):
    """A label's name (and, for a new one, the rung it counts as)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    DEFAULT_CSS = """
    LabelDialog .field { height: 3; }
    LabelDialog .field Label { width: 11; padding: 1 1 0 0; color: $text-muted; }
    LabelDialog .field Input, LabelDialog .field Select { width: 1fr; }
    LabelDialog #label-error { height: auto; }
    """

    def __init__(self, title: str, *, name: str = "", counts_as: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.initial = name
        self.asks_rung = counts_as

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.title_text, style="bold"), classes="dialog-title")
            with Horizontal(classes="field"):
                yield Label("Name")
                yield Input(self.initial, placeholder="e.g. Waitlisted", id="label-name")
            if self.asks_rung:
                with Horizontal(classes="field"):
                    yield Label("Counts as")
                    yield Select(
                        [(name, rung) for rung, name in enumerate(LADDER)],
                        value=LADDER.index("Responded"),
                        allow_blank=False,
                        id="label-rung",
                    )
            yield Static(id="label-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        name = self.query_one("#label-name", Input).value.strip()
        if not name:
            self.query_one("#label-error", Static).update("A status needs a name.")
            return
        rung = self.query_one("#label-rung", Select).value if self.asks_rung else 0
        self.dismiss((name, int(rung)))  # type: ignore[arg-type]

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
