"""The journal: every bulk change, newest first, and undo (`z` here, or on the screen it was made).

`UndoActions` gives a screen its `z`: undo the newest change not yet undone (of the screen's
campaign, if it shows one), after a confirmation that says which change it is."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from data.journal import JournalRow, entries, latest_open
from data.models import Campaign
from data.text import counted
from data.undo import engaged_added, engaged_text, undo
from data.vocab import JournalAction
from screens.base import AppScreen
from screens.modals import ConfirmScreen
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import assemble, literal
from tui_app.widgets.messages import Notice
from tui_app.widgets.work import deliver, reads, writes

SHOWN = 500
"""The newest entries listed (a journal grows by one row per bulk change)."""


def described(row: JournalRow) -> Text:
    """One entry as a sentence: what, where, how many, who, when."""
    return assemble(
        (row.action, "bold"),
        " in ",
        (row.campaign, "bold"),
        f": {row.summary or counted(row.count, 'member')}",
        ("  by ", "dim"),
        (row.who, ""),
        ("  at ", "dim"),
        f"{row.at:%Y-%m-%d %H:%M}",
    )


JOURNAL_COLUMNS = (
    ("Id", 4),
    ("At", 16),
    ("Action", 8),
    ("Campaign", 22),
    ("Count", 7),
    ("Undone", 6),
    ("Who", 10),
    ("What", 60),
)
"""The journal's columns and their widths (the newest change first)."""


class UndoFound(Message):
    """The change `z` would undo (None: nothing to undo), and how many of the members it
    added have engaged since (undoing it deletes their records)."""

    def __init__(self, row: JournalRow | None, engaged: int = 0) -> None:
        super().__init__()
        self.row = row
        self.engaged = engaged


def _found(row: JournalRow | None) -> UndoFound:
    """The change to undo, with its engaged members counted when it added members."""
    adds = row is not None and JournalAction(row.action).adds_members
    return UndoFound(row, engaged_added(row.id) if adds and row is not None else 0)


class UndoActions:
    """Mixed into an AppScreen: `z` undoes the newest change made there (its campaign's, or
    any), after a confirmation naming it."""

    def undo_scope(self) -> int | None:
        """The campaign whose changes `z` undoes here; None for every campaign's."""
        return None

    def action_undo(self) -> None:
        self._find_undo(self.undo_scope())

    @reads("undo-find")
    def _find_undo(self, campaign_id: int | None) -> None:
        deliver(self, _found(latest_open(campaign_id)))  # type: ignore[arg-type]

    def ask_undo(self, row: JournalRow) -> None:
        """Ask before undoing this change (after counting its engaged members, if it added)."""
        self._check_undo(row)

    @reads("undo-find")
    def _check_undo(self, row: JournalRow) -> None:
        deliver(self, _found(row))  # type: ignore[arg-type]

    def on_undo_found(self, message: UndoFound) -> None:
        row = message.row
        if row is None:
            self.notify("Nothing to undo here.")  # type: ignore[attr-defined]
            return
        question = assemble("Undo ", described(row), "?")
        if message.engaged:
            warning = (
                f"{engaged_text(message.engaged)}: undoing deletes their records and "
                "engagement too."
            )
            question = assemble(question, "\n\n", (warning, "bold"))
        self.app.push_screen(  # type: ignore[attr-defined]
            ConfirmScreen("Undo this change?", question, confirm="Undo"),
            # Confirmed with the count in view: the engaged members go too.
            lambda yes: self._undo(row.id, bool(message.engaged)) if yes else None,
        )

    @writes("undo")
    def _undo(self, entry_id: int, force: bool = False) -> None:
        result = undo(entry_id, now=self.app.now(), force=force)  # type: ignore[attr-defined]
        self.post_message(  # type: ignore[attr-defined]
            Notice(f"Undone: {result.summary()}.", changed=True)
        )


class JournalScreen(UndoActions, AppScreen):
    """Every bulk change, newest first; any can be undone."""

    class Loaded(Message):
        def __init__(self, title: str, rows: list[JournalRow]) -> None:
            super().__init__()
            self.title, self.rows = title, rows

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("z,u", "undo_selected", "Undo selected"),
        Binding("r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    JournalScreen #journal-title { padding: 0 1; background: $boost; }
    JournalScreen #journal { height: 1fr; }
    """

    def __init__(self, campaign_id: int | None = None) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.rows: list[JournalRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="journal-title")
        table = DataTable(id="journal", cursor_type="row", zebra_stripes=True)
        # Widths fixed here, not measured from the rows when idle: the same on any machine.
        for title, width in JOURNAL_COLUMNS:
            table.add_column(title, width=width)
        yield table
        yield AppFooter()

    def on_mount(self) -> None:
        self.action_reload()

    def reread(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load(self.campaign_id)

    @reads("journal")
    def _load(self, campaign_id: int | None) -> None:
        title = "Journal of bulk changes"
        if campaign_id is not None:
            title += f" in {Campaign.get_by_id(campaign_id).name}"
        deliver(self, self.Loaded(title, entries(campaign_id, limit=SHOWN)))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.rows = message.rows
        count = len(message.rows)
        shown = counted(count, "change") if count < SHOWN else f"the newest {SHOWN:,} changes"
        self.query_one("#journal-title", Static).update(
            assemble((message.title, "bold"), f"  ·  {shown}  ·  z undoes the selected one")
        )
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in message.rows:
            table.add_row(
                str(row.id),
                f"{row.at:%Y-%m-%d %H:%M}",
                Text(row.action, style="dim" if row.undone else "bold"),
                literal(row.campaign, overflow="ellipsis", no_wrap=True),
                f"{row.count:,}",
                Text("undone", style="yellow") if row.undone else "",
                literal(row.who),
                literal(row.undo_summary if row.undone else row.summary),
            )
        if message.rows:
            table.move_cursor(row=min(cursor, len(message.rows) - 1))

    def action_undo_selected(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            self.notify("Nothing to undo.")
            return
        row = self.rows[table.cursor_row]
        if row.undone:
            self.notify(f"Change {row.id} was already undone.", severity="warning")
            return
        self.ask_undo(row)
