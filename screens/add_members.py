"""The Add Members picker: mark leads and contacts by keyboard, then enroll them in one go."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from data.audience import NEW
from data.db import database
from data.enrollment import EnrollmentResult, enroll
from data.members import PAGE_SIZE, PickerRow, pickable_ids, picker_count, picker_page
from data.models import Campaign

KINDS = ("lead", "contact")

WHY_NOT = {
    "already_member": "already a member",
    "do_not_email": "do not email",
    "bounced": "email bounced",
    "converted_lead": "converted to a contact",
}
"""Why a row cannot be picked, as the picker shows it."""

MARK = Text("✓", style="bold green")


class Selection:
    """The people marked so far, by kind; only pickable people can be marked."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = {kind: set() for kind in KINDS}

    def toggle(self, kind: str, row: PickerRow) -> bool:
        """Mark or unmark one row; returns whether it is marked now (never for excluded)."""
        marked = self.ids[kind]
        if row.category != NEW:
            return False
        if row.id in marked:
            marked.discard(row.id)
            return False
        marked.add(row.id)
        return True

    def add(self, kind: str, ids: list[int]) -> None:
        self.ids[kind].update(ids)

    def clear(self) -> None:
        for marked in self.ids.values():
            marked.clear()

    def total(self) -> int:
        return sum(len(v) for v in self.ids.values())

    def people(self) -> dict[str, list[int]]:
        return {kind: sorted(ids) for kind, ids in self.ids.items() if ids}

    def describe(self) -> str:
        return (
            f"{self.total():,} selected: {len(self.ids['lead']):,} leads, "
            f"{len(self.ids['contact']):,} contacts"
        )


class AddMembersScreen(ModalScreen[EnrollmentResult | None]):
    """Pick people for a campaign; excluded people are shown as such and cannot be marked."""

    DEFAULT_CSS = """
    AddMembersScreen #picker {
        width: 92%;
        height: 92%;
        padding: 0 1;
        border: thick $accent;
        background: $surface;
    }
    AddMembersScreen #picker-title { padding: 1 0 0 0; }
    AddMembersScreen #picker-tabs { height: 1fr; }
    AddMembersScreen TabPane { padding: 0; }
    AddMembersScreen #picked { height: 1; background: $boost; padding: 0 1; }
    AddMembersScreen #picker-keys { height: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("space", "toggle", "Mark"),
        Binding("ctrl+t", "mark_all", "Mark all matching", priority=True),
        Binding("ctrl+r", "clear_marks", "Clear marks", priority=True),
        Binding("slash", "filter", "Filter"),
        Binding("l", "kind('lead')", "Leads", show=False),
        Binding("c", "kind('contact')", "Contacts", show=False),
        Binding("ctrl+s", "enroll", "Enroll marked (also enter)", priority=True),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.selection = Selection()
        self.rows: dict[str, list[PickerRow]] = {kind: [] for kind in KINDS}
        self.matching: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.pending: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(id="picker-title")
            yield Input(placeholder="Filter by name, email or company  ( / )", id="picker-filter")
            with TabbedContent(id="picker-tabs"):
                for kind in KINDS:
                    with TabPane(f"{kind.title()}s", id=f"pick-{kind}-tab"):
                        table = DataTable(id=f"pick-{kind}", cursor_type="row")
                        table.add_column(" ", key="mark", width=1)
                        table.add_columns("Name", "Email", "Company", "Can be added?")
                        yield table
            yield Static(id="picked")
            yield Static(
                "space mark · ctrl+t mark all matching · ctrl+r clear · enter enroll · "
                "/ filter · l/c leads/contacts · esc cancel",
                id="picker-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#pick-lead").focus()
        self._title()
        self._count()
        self.reload()

    @work(thread=True, group="picker-title")
    def _title(self) -> None:
        with database.connection_context():
            name = Campaign.get_by_id(self.campaign_id).name
        self.app.call_from_thread(
            self.query_one("#picker-title", Label).update,
            Text.assemble(("Add members to ", "bold"), (name, "bold")),
        )

    @property
    def search(self) -> str:
        return self.query_one("#picker-filter", Input).value.strip()

    def reload(self) -> None:
        for kind in KINDS:
            self.pending.add(kind)
            self._load(kind, self.search, None)

    @work(thread=True, group="picker-rows")
    def _load(self, kind: str, search: str, after: int | None) -> None:
        with database.connection_context():
            campaign = Campaign.get_by_id(self.campaign_id)
            rows = picker_page(campaign, kind, search, after=after)
            total = picker_count(campaign, kind, search) if after is None else None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, kind, search, rows, total, after is None)

    def _show(self, kind, search, rows, total, fresh: bool) -> None:
        if search != self.search:
            return  # typed on since: a newer load is coming
        table = self.query_one(f"#pick-{kind}", DataTable)
        if fresh:
            table.clear()
            self.rows[kind] = []
            self.matching[kind] = total
        for row in rows:
            pickable = row.category == NEW
            style = "" if pickable else "dim"
            table.add_row(
                MARK if row.id in self.selection.ids[kind] else "",
                Text(row.name, style=style),
                Text(row.email, style=style),
                Text(row.company, style=style),
                Text("yes", style="green") if pickable else Text(WHY_NOT[row.category], "red"),
                key=str(row.id),
            )
            self.rows[kind].append(row)
        self.pending.discard(kind)
        self._count()

    def _count(self) -> None:
        matching = " · ".join(f"{self.matching[k]:,} {k}s match" for k in KINDS)
        self.query_one("#picked", Static).update(
            Text.assemble((self.selection.describe(), "bold"), f"   ({matching})")
        )

    def _kind(self) -> str:
        active = self.query_one("#picker-tabs", TabbedContent).active
        return active.removeprefix("pick-").removesuffix("-tab")

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#picker-filter")
    def _filter_done(self) -> None:
        self.query_one(f"#pick-{self._kind()}").focus()

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        kind = event.data_table.id.removeprefix("pick-")
        rows = self.rows[kind]
        if (
            kind not in self.pending
            and rows
            and len(rows) % PAGE_SIZE == 0
            and event.cursor_row >= len(rows) - 10
        ):
            self.pending.add(kind)
            self._load(kind, self.search, rows[-1].id)

    @on(DataTable.RowSelected)
    def _enter(self) -> None:
        self.action_enroll()

    def action_toggle(self) -> None:
        kind = self._kind()
        table = self.query_one(f"#pick-{kind}", DataTable)
        if not self.rows[kind] or table.cursor_row >= len(self.rows[kind]):
            return
        row = self.rows[kind][table.cursor_row]
        if row.category != NEW:
            self.notify(f"Cannot add: {WHY_NOT[row.category]}.", severity="warning")
            return
        marked = self.selection.toggle(kind, row)
        table.update_cell(str(row.id), "mark", MARK if marked else "")
        self._count()
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_mark_all(self) -> None:
        self._mark_all(self._kind(), self.search)

    @work(thread=True, exclusive=True, group="picker-mark-all")
    def _mark_all(self, kind: str, search: str) -> None:
        with database.connection_context():
            ids = pickable_ids(Campaign.get_by_id(self.campaign_id), kind, search)
        self.app.call_from_thread(self._marked_all, kind, ids)

    def _marked_all(self, kind: str, ids: list[int]) -> None:
        self.selection.add(kind, ids)
        self._refresh_marks()
        self.notify(f"Marked {len(ids):,} {kind}s matching the filter.")

    def action_clear_marks(self) -> None:
        self.selection.clear()
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        for kind in KINDS:
            table = self.query_one(f"#pick-{kind}", DataTable)
            marked = self.selection.ids[kind]
            for row in self.rows[kind]:
                table.update_cell(str(row.id), "mark", MARK if row.id in marked else "")
        self._count()

    def action_filter(self) -> None:
        self.query_one("#picker-filter").focus()

    def action_kind(self, kind: str) -> None:
        self.query_one("#picker-tabs", TabbedContent).active = f"pick-{kind}-tab"
        self.query_one(f"#pick-{kind}").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_enroll(self) -> None:
        if not self.selection.total():
            self.notify("Mark people with space first (ctrl+t marks every match).")
            return
        self._enroll(self.selection.people())

    @work(thread=True, exclusive=True, group="picker-enroll")
    def _enroll(self, people: dict[str, list[int]]) -> None:
        with database.connection_context():
            campaign = Campaign.get_by_id(self.campaign_id)
            result = enroll(campaign, people, now=self.app.now())
        self.app.call_from_thread(self.dismiss, result)
