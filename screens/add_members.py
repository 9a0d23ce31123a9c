"""The Add Members picker: mark leads and contacts by keyboard, then enroll them in one go.

Keys: space marks the row under the cursor, ctrl+t marks every pickable person matching the
filter (loaded or not), ctrl+r clears the marks, enter (in the list) or ctrl+s enrolls, escape
cancels. ctrl+t rather than ctrl+a because ctrl+a is the filter box's "go to start" key.
"""

from __future__ import annotations

from peewee import OperationalError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Label, Static, TabbedContent, TabPane, Tabs

from data.audience import NEW
from data.engagement import StatusChangeRefused
from data.enrollment import EnrollmentResult, enroll
from data.members import PAGE_SIZE, PickerRow, pickable_ids, picker_count, picker_page
from data.models import Campaign, ValidationError
from screens.base import AppModal
from tui_app.widgets.formatting import assemble, literal
from tui_app.widgets.work import deliver, reads, writes

KINDS = ("lead", "contact")

WHY_NOT = {
    "already_member": "already a member",
    "do_not_email": "do not email",
    "bounced": "email bounced",
    "converted_lead": "converted to a contact",
    "suppressed": "address suppressed",
    "contact_instead": "its contact is enrolled instead",
}
"""Why a row cannot be picked, as the picker shows it."""

MARK = Text("✓", style="bold green")
NEAR_END = 10
"""Load the next page when the cursor is this close to the last loaded row."""


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


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

    def forget(self, kind: str, rows: list[PickerRow]) -> None:
        """Drop marks on rows that can no longer be picked (someone enrolled them meanwhile)."""
        self.ids[kind].difference_update(r.id for r in rows if r.category != NEW)

    def clear(self) -> None:
        for marked in self.ids.values():
            marked.clear()

    def total(self) -> int:
        return sum(len(v) for v in self.ids.values())

    def people(self) -> dict[str, list[int]]:
        return {kind: sorted(ids) for kind, ids in self.ids.items() if ids}

    def describe(self) -> str:
        leads, contacts = len(self.ids["lead"]), len(self.ids["contact"])
        return (
            f"{self.total():,} selected: {_plural(leads, 'lead')}, {_plural(contacts, 'contact')}"
        )


class AddMembersScreen(AppModal[EnrollmentResult | None]):
    """Pick people for a campaign; excluded people are shown as such and cannot be marked."""

    class Titled(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class Page(Message):
        """Rows of one kind: the first page(s) after a (re)load, or the next page (`more`)."""

        def __init__(
            self,
            generation: int,
            kind: str,
            rows: list[PickerRow],
            limit: int,
            total: int,
            keep: bool = False,
            more: bool = False,
        ) -> None:
            super().__init__()
            self.generation, self.kind, self.rows, self.limit = generation, kind, rows, limit
            self.total, self.keep, self.more = total, keep, more

    class MarkedAll(Message):
        def __init__(self, kind: str, ids: list[int]) -> None:
            super().__init__()
            self.kind, self.ids = kind, ids

    class Enrolled(Message):
        def __init__(self, result: EnrollmentResult | None, refusal: str = "") -> None:
            super().__init__()
            self.result, self.refusal = result, refusal

    DEFAULT_CSS = """
    AddMembersScreen #picker {
        width: 90%;
        height: 90%;
        padding: 0 1;
        border: thick $accent;
        background: $surface;
    }
    AddMembersScreen #picker-title { padding: 1 0 0 0; }
    AddMembersScreen #picker-tabs { height: 1fr; }
    AddMembersScreen TabPane { padding: 0; }
    AddMembersScreen #picked { height: 1; background: $boost; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("space", "toggle", "Mark"),
        Binding("ctrl+t", "mark_all", "Mark all matching", priority=True),
        Binding("ctrl+r", "clear_marks", "Clear marks", priority=True),
        Binding("slash", "filter", "Filter"),
        Binding("l", "kind('lead')", "Leads"),
        Binding("c", "kind('contact')", "Contacts"),
        Binding("ctrl+s", "enroll", "Enroll (enter)", priority=True),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.selection = Selection()
        self.rows: dict[str, list[PickerRow]] = {kind: [] for kind in KINDS}
        self.exhausted: dict[str, bool] = dict.fromkeys(KINDS, False)
        self.matching: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.pending: set[str] = set()
        self.generation = 0
        """Bumped on every fresh load, so rows from an older filter are never shown."""
        self.enrolling = False

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
        yield Footer()

    def on_mount(self) -> None:
        # tab goes filter <-> list; l and c (or a click) switch between Leads and Contacts
        self.query_one("#picker-tabs", TabbedContent).query_one(Tabs).can_focus = False
        self.query_one("#pick-lead").focus()
        self._count()
        self._title()
        self.reload()

    def on_data_changed(self, _message) -> None:
        """Someone enrolled or changed people: refresh the rows already loaded, cursor kept."""
        self.reload(keep=True)

    def subject(self) -> type:
        return Campaign

    @reads("picker-title")
    def _title(self) -> None:
        self.post_message(self.Titled(Campaign.get_by_id(self.campaign_id).name))

    @on(Titled)
    def _set_title(self, message: Titled) -> None:
        title = assemble(("Add members to ", "bold"), (message.name, "bold"))
        self.query_one("#picker-title", Label).update(title)

    @property
    def search(self) -> str:
        return self.query_one("#picker-filter", Input).value.strip()

    def reload(self, keep: bool = False) -> None:
        """Load both lists from the top; `keep` reloads as many rows as are shown now."""
        self.generation += 1
        self.pending.update(KINDS)
        limits = {k: max(PAGE_SIZE, len(self.rows[k])) if keep else PAGE_SIZE for k in KINDS}
        self._load(self.generation, self.search, limits, keep)

    @reads("picker-rows")
    def _load(self, generation: int, search: str, limits: dict[str, int], keep: bool) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        for kind in KINDS:
            rows = picker_page(campaign, kind, search, limit=limits[kind])
            total = picker_count(campaign, kind, search)
            deliver(self, self.Page(generation, kind, rows, limits[kind], total, keep=keep))

    @reads("picker-more")
    def _load_more(self, generation: int, kind: str, search: str, after: int) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        rows = picker_page(campaign, kind, search, after=after)
        self.post_message(self.Page(generation, kind, rows, PAGE_SIZE, 0, more=True))

    @on(Page)
    def _page(self, message: Page) -> None:
        if message.generation != self.generation:
            return  # the filter changed since: a newer load is coming
        if message.more:
            self._add_rows(message.kind, message.rows, message.limit)
        else:
            self._show(message.kind, message.rows, message.limit, message.total, message.keep)

    def _show(self, kind: str, rows: list[PickerRow], limit: int, total: int, keep: bool) -> None:
        table = self.query_one(f"#pick-{kind}", DataTable)
        cursor = table.cursor_row if keep else 0
        table.clear()
        self.rows[kind] = []
        self.matching[kind] = total
        self.selection.forget(kind, rows)
        self._add_rows(kind, rows, limit)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
        self._count()

    def _add_rows(self, kind: str, rows: list[PickerRow], limit: int) -> None:
        table = self.query_one(f"#pick-{kind}", DataTable)
        marked = self.selection.ids[kind]
        for row in rows:
            pickable = row.category == NEW
            style = "" if pickable else "dim"
            table.add_row(
                MARK if row.id in marked else "",
                literal(row.name, style),
                literal(row.email, style),
                literal(row.company, style),
                Text("yes", style="green") if pickable else Text(WHY_NOT[row.category], "red"),
                key=str(row.id),
            )
        self.rows[kind].extend(rows)
        self.exhausted[kind] = len(rows) < limit
        self.pending.discard(kind)

    def _count(self) -> None:
        matching = " · ".join(_plural(self.matching[k], k) + " match" for k in KINDS)
        self.query_one("#picked", Static).update(
            Text.assemble(" ", (self.selection.describe(), "bold"), f"   ({matching})")
        )

    def _kind(self) -> str:
        active = self.query_one("#picker-tabs", TabbedContent).active
        return active.removeprefix("pick-").removesuffix("-tab")

    def _table(self) -> DataTable:
        return self.query_one(f"#pick-{self._kind()}", DataTable)

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#picker-filter")
    def _filter_done(self) -> None:
        self._table().focus()

    @on(TabbedContent.TabActivated)
    def _tab_switched(self) -> None:
        if not self.query_one("#picker-filter", Input).has_focus:
            self._table().focus()

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        kind = event.data_table.id.removeprefix("pick-")
        rows = self.rows[kind]
        if (
            kind not in self.pending
            and not self.exhausted[kind]
            and rows
            and event.cursor_row >= len(rows) - NEAR_END
        ):
            self.pending.add(kind)
            self._load_more(self.generation, kind, self.search, rows[-1].id)

    @on(DataTable.RowSelected)
    def _enter(self) -> None:
        self.action_enroll()

    def action_toggle(self) -> None:
        kind = self._kind()
        table = self._table()
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

    @reads("picker-mark-all")
    def _mark_all(self, kind: str, search: str) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        deliver(self, self.MarkedAll(kind, pickable_ids(campaign, kind, search)))

    @on(MarkedAll)
    def _marked_all(self, message: MarkedAll) -> None:
        self.selection.add(message.kind, message.ids)
        self._refresh_marks()
        self.notify(f"Marked {_plural(len(message.ids), message.kind)} matching the filter.")

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
        if not self.enrolling:  # once enrolling has begun, the result is coming
            self.dismiss(None)

    def action_enroll(self) -> None:
        if self.enrolling:
            return
        if not self.selection.total():
            self.notify("Mark people with space first (ctrl+t marks every match).")
            return
        self.enrolling = True
        self._enroll(self.selection.people())

    @writes("picker-enroll")
    def _enroll(self, people: dict[str, list[int]]) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        try:
            result = enroll(campaign, people, now=self.app.now())
        except (ValidationError, StatusChangeRefused, OperationalError) as error:
            self.post_message(self.Enrolled(None, str(error)))
        else:
            self.post_message(self.Enrolled(result))

    def work_failed(self, error: BaseException) -> None:
        self.enrolling = False
        super().work_failed(error)

    @on(Enrolled)
    def _enrolled(self, message: Enrolled) -> None:
        if message.result is None:
            self.enrolling = False
            self.notify(f"Could not enroll: {message.refusal}", severity="error")
            return
        self.dismiss(message.result)
        self.app.notify_changed()
