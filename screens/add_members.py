"""The Add Members picker: mark leads and contacts by keyboard, then enroll them in one go.

Keys: space marks the row under the cursor, ctrl+t marks every pickable person matching the
filter (loaded or not), ctrl+r clears the marks, enter (in the list) or ctrl+s enrolls, escape
cancels. ctrl+t rather than ctrl+a because ctrl+a is the filter box's "go to start" key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from peewee import OperationalError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static, TabbedContent, TabPane, Tabs

from data.audience import NEW
from data.engagement import StatusChangeRefused
from data.enrollment import EnrollmentResult, enroll, preview
from data.members import (
    Picked,
    PickerRow,
    pickable_among,
    pickable_count,
    picker_count,
    picker_page,
    picker_tally,
)
from data.models import Campaign, ValidationError
from data.sorting import Order
from data.text import counted
from screens.base import AppModal
from screens.modals import ConfirmScreen
from tui_app.widgets.filter_box import FILTER_HINT, FilterProblems
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import assemble
from tui_app.widgets.paged_table import PagedTable, Plan
from tui_app.widgets.row_table import Cell, Column
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

MARK: Cell = ("✓", "bold green")


class Selection:
    """The people marked so far, by kind: ids marked one by one, and, after "mark all", the
    filters whose every pickable match is marked, minus the people unmarked since. Never the ids
    of every match: a filter stands for 170,000 people as well as for three. Only pickable people
    can be marked."""

    def __init__(self, campaign_id: int = 0) -> None:
        self.campaign_id = campaign_id
        self.ids: dict[str, set[int]] = {kind: set() for kind in KINDS}
        self.filters: tuple[str, ...] = ()
        self.except_ids: dict[str, set[int]] = {kind: set() for kind in KINDS}
        self.counts: dict[str, int | None] = dict.fromkeys(KINDS, 0)
        """How many are marked, by kind (None while the database counts a filter's matches)."""

    def is_marked(self, kind: str, row: PickerRow) -> bool:
        if row.id in self.ids[kind]:
            return True
        return (
            bool(self.filters)
            and row.matched
            and row.category == NEW
            and row.id not in self.except_ids[kind]
        )

    def toggle(self, kind: str, row: PickerRow) -> bool:
        """Mark or unmark one row; returns whether it is marked now (never for excluded)."""
        if row.category != NEW:
            return False
        marked = not self.is_marked(kind, row)
        if marked:
            self.ids[kind].add(row.id)
            self.except_ids[kind].discard(row.id)
        else:
            self.ids[kind].discard(row.id)
            if self.filters:
                self.except_ids[kind].add(row.id)
        count = self.counts[kind]
        if count is not None:
            self.counts[kind] = count + (1 if marked else -1)
        return marked

    def mark_matching(self, search: str, covered: dict[str, list[int]]) -> None:
        """Mark every pickable match of the filter (the exceptions it `covered` are marked
        again); the counts are then the database's to give (`counted`)."""
        if search not in self.filters:
            self.filters = (*self.filters, search)
        for kind, ids in covered.items():
            self.except_ids[kind].difference_update(ids)
        self.counts = dict.fromkeys(KINDS, None)

    def counted(self, picked: dict[str, Picked], counts: dict[str, int]) -> bool:
        """Take the database's counts if the marks are still those it counted."""
        if picked != self.picked():
            return False
        self.counts = dict(counts)
        return True

    def forget(self, kind: str, rows) -> None:
        """Drop marks on rows that can no longer be picked (someone enrolled them meanwhile)."""
        gone = {r.id for r in rows if r.category != NEW} & self.ids[kind]
        self.ids[kind].difference_update(gone)
        count = self.counts[kind]
        if gone and count is not None:
            self.counts[kind] = count - len(gone)

    def clear(self) -> None:
        for kind in KINDS:
            self.ids[kind].clear()
            self.except_ids[kind].clear()
        self.filters = ()
        self.counts = dict.fromkeys(KINDS, 0)

    def total(self) -> int | None:
        if any(count is None for count in self.counts.values()):
            return None
        return sum(count or 0 for count in self.counts.values())

    def picked(self) -> dict[str, Picked]:
        """The marks of each kind, as the data layer takes them."""
        return {
            kind: Picked(
                self.campaign_id,
                kind,
                frozenset(self.ids[kind]),
                self.filters,
                frozenset(self.except_ids[kind]),
            )
            for kind in KINDS
        }

    def people(self) -> dict[str, Picked]:
        """The kinds with marks, for `enroll`."""
        return {kind: picked for kind, picked in self.picked().items() if picked}

    def describe(self) -> str:
        total = self.total()
        if total is None:
            return "counting the marked people…"
        leads, contacts = self.counts["lead"] or 0, self.counts["contact"] or 0
        return f"{total:,} selected: {counted(leads, 'lead')}, {counted(contacts, 'contact')}"


@dataclass(frozen=True)
class Pickable:
    """The leads or contacts the picker lists for a campaign and a filter, by id or in `order`;
    keyed by id (or, sorted, by the row's sort key)."""

    campaign_id: int
    kind: str
    search: str = ""
    marked_filters: tuple[str, ...] = ()
    """The filters the picker marked every match of (each row says whether one matches it)."""
    order: Order = Order()

    def count(self) -> int:
        return picker_count(Campaign.get_by_id(self.campaign_id), self.kind, self.search)

    def page(self, plan: Plan) -> list[PickerRow]:
        return picker_page(
            Campaign.get_by_id(self.campaign_id),
            self.kind,
            self.search,
            order=self.order,
            marked_filters=self.marked_filters,
            **plan.arguments(),
        )

    def key(self, row: PickerRow):
        return row.key if self.order.column else row.id


class PickerTable(PagedTable[PickerRow]):
    """People with a mark column and whether each can be added (a row says why not)."""

    ORDERS = (("name", "Name"), ("email", "Email"))

    columns = (
        Column(" ", 1),
        Column("Name", 0, 3),
        Column("Email", 0, 4),
        Column("Company", 0, 2, hide_below=90),
        Column("Can be added?", 22),
    )

    def __init__(self, selection: Selection, kind: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selection, self.kind = selection, kind

    def cells(self, row: PickerRow) -> list[Cell]:
        pickable = row.category == NEW
        style = "" if pickable else "dim"
        return [
            MARK if self.selection.is_marked(self.kind, row) else ("", ""),
            (row.name, style),
            (row.email, style),
            (row.company, style),
            ("yes", "green") if pickable else (WHY_NOT.get(row.category, row.category), "red"),
        ]

    def empty_note(self) -> str:
        return "Nobody matches the filter." if self.counted else ""


class AddMembersScreen(AppModal[EnrollmentResult | None]):
    """Pick people for a campaign; excluded people are shown as such and cannot be marked."""

    class Titled(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class MarkedAll(Message):
        """Every pickable match of `search` marked: how many match, by kind, and the unmarked
        exceptions the filter covers (marked again)."""

        def __init__(
            self, search: str, matching: dict[str, int], covered: dict[str, list[int]]
        ) -> None:
            super().__init__()
            self.search, self.matching, self.covered = search, matching, covered

    class MarksCounted(Message):
        def __init__(self, picked: dict[str, Picked], counts: dict[str, int]) -> None:
            super().__init__()
            self.picked, self.counts = picked, counts

    class Previewed(Message):
        """What enrolling the marked people would do, and who the filter matched but cannot be
        added, to confirm."""

        def __init__(self, body: Text) -> None:
            super().__init__()
            self.body = body

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
        Binding("f1", "app.help", "Help"),  # a dialog hides the app's keys: help stays
        Binding("escape", "cancel", "Cancel"),
        Binding("space", "toggle", "Mark"),
        Binding("ctrl+t", "mark_all", "Mark all matching", priority=True),
        Binding("ctrl+r", "clear_marks", "Clear marks", priority=True),
        Binding("slash", "filter", "Filter"),
        Binding("l", "kind('lead')", "Leads"),
        Binding("c", "kind('contact')", "Contacts"),
        Binding("ctrl+s", "enroll", "Enroll (enter)", priority=True),
        Binding("ctrl+o", "sort", "Sort", priority=True),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.selection = Selection(campaign_id)
        self.enrolling = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(id="picker-title")
            yield Input(placeholder=FILTER_HINT, id="picker-filter")
            yield FilterProblems(id="picker-problems")
            with TabbedContent(id="picker-tabs"):
                for kind in KINDS:
                    with TabPane(f"{kind.title()}s", id=f"pick-{kind}-tab"):
                        yield PickerTable(self.selection, kind, id=f"pick-{kind}")
            yield Static(id="picked")
        yield AppFooter()

    def on_mount(self) -> None:
        # tab goes filter <-> list; l and c (or a click) switch between Leads and Contacts
        self.query_one("#picker-tabs", TabbedContent).query_one(Tabs).can_focus = False
        self.table("lead").focus()
        self._count()
        self._title()
        self._filter()

    def reread(self) -> None:
        """Someone enrolled or changed people: count and fetch again, cursor kept."""
        for kind in KINDS:
            self.table(kind).reload()
        if self.selection.filters:  # a filter's matches may have changed
            self._count_marks(self.selection.picked())

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

    def table(self, kind: str) -> PickerTable:
        return self.query_one(f"#pick-{kind}", PickerTable)

    def _source(self, kind: str) -> Pickable:
        order = self.table(kind).order
        return Pickable(self.campaign_id, kind, self.search, self.selection.filters, order)

    def _filter(self, typed: bool = False) -> None:
        for kind in KINDS:
            self.table(kind).show(self._source(kind), typed=typed)

    @on(PagedTable.Loaded)
    def _loaded(self, event: PagedTable.Loaded) -> None:
        """Marks on rows someone else has taken meanwhile are dropped."""
        table = event.table
        if isinstance(table, PickerTable):
            kind = (table.id or "").removeprefix("pick-")
            self.selection.forget(kind, table.rows.values())
        self._count()

    @on(PagedTable.Counting)
    def _count(self) -> None:
        matching = " · ".join(
            counted(self.table(k).total, f"{k} matches", f"{k}s match")
            if self.table(k).counted
            else f"counting {k}s…"
            for k in KINDS
        )
        self.query_one("#picked", Static).update(
            Text.assemble(" ", (self.selection.describe(), "bold"), f"   ({matching})")
        )

    def _kind(self) -> str:
        active = self.query_one("#picker-tabs", TabbedContent).active
        return active.removeprefix("pick-").removesuffix("-tab")

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.query_one(FilterProblems).explain(event.value):
            self._filter(typed=True)

    @on(Input.Submitted, "#picker-filter")
    def _filter_done(self) -> None:
        self.table(self._kind()).focus()

    @on(TabbedContent.TabActivated)
    def _tab_switched(self) -> None:
        if not self.query_one("#picker-filter", Input).has_focus:
            self.table(self._kind()).focus()

    @on(PagedTable.Selected)
    def _enter(self) -> None:
        self.action_enroll()

    def action_toggle(self) -> None:
        kind = self._kind()
        table = self.table(kind)
        row = table.current_row
        if row is None:
            return
        if row.category != NEW:
            reason = WHY_NOT.get(row.category, row.category)
            self.notify(f"Cannot add: {reason}.", severity="warning")
            return
        self.selection.toggle(kind, row)
        table.row_changed(table.cursor)
        self._count()
        table.action_move(1)

    def action_mark_all(self) -> None:
        self._mark_all(self.search, self.selection.picked())

    @reads("picker-mark-all")
    def _mark_all(self, search: str, picked: dict[str, Picked]) -> None:
        matching = {kind: pickable_count(self.campaign_id, kind, search) for kind in KINDS}
        covered = {
            kind: pickable_among(self.campaign_id, kind, search, picked[kind].except_ids)
            for kind in KINDS
        }
        deliver(self, self.MarkedAll(search, matching, covered))

    @on(MarkedAll)
    def _marked_all(self, message: MarkedAll) -> None:
        self.selection.mark_matching(message.search, message.covered)
        self._refresh_marks()
        self._count_marks(self.selection.picked())
        marked = ", ".join(counted(n, kind) for kind, n in message.matching.items())
        self.notify(f"Marked {marked} matching the filter.")

    @reads("picker-marks-count")
    def _count_marks(self, picked: dict[str, Picked]) -> None:
        counts = {kind: marks.count() for kind, marks in picked.items()}
        deliver(self, self.MarksCounted(picked, counts))

    @on(MarksCounted)
    def _marks_counted(self, message: MarksCounted) -> None:
        if self.selection.counted(message.picked, message.counts):
            self._count()
        else:  # marked otherwise meanwhile: count those
            self._count_marks(self.selection.picked())

    def action_clear_marks(self) -> None:
        self.selection.clear()
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        for kind in KINDS:
            table = self.table(kind)
            if table.source != self._source(kind):  # rows say whether a marked filter matches
                table.source = self._source(kind)
                table.reload()
            table.rows_changed()
        self._count()

    def action_filter(self) -> None:
        self.query_one("#picker-filter").focus()

    def action_sort(self) -> None:
        """Sort the list on show by its next column (or the other way)."""
        self.table(self._kind()).cycle_order()

    def action_kind(self, kind: str) -> None:
        self.query_one("#picker-tabs", TabbedContent).active = f"pick-{kind}-tab"
        self.table(kind).focus()

    def action_cancel(self) -> None:
        if not self.enrolling:  # once enrolling has begun, the result is coming
            self.dismiss(None)

    def action_enroll(self) -> None:
        if self.enrolling:
            return
        if not self.selection.people():
            self.notify("Mark people with space first (ctrl+t marks every match).")
            return
        self.enrolling = True
        self._preview(self.selection.people(), self.search)

    @reads("picker-preview")
    def _preview(self, people: dict[str, Picked], search: str) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        body = assemble(preview(campaign, people).summary(preview=True).capitalize(), ".")
        if search:
            left_out: Counter = Counter()
            for kind in KINDS:
                left_out.update(picker_tally(campaign, kind, search))
            left_out.pop(NEW, None)
            if left_out:
                why = ", ".join(
                    f"{WHY_NOT.get(reason, reason)} {count:,}"
                    for reason, count in left_out.most_common()
                )
                body.append(f"\n\nThe filter also matches people who cannot be added: {why}.")
        deliver(self, self.Previewed(body))

    @on(Previewed)
    def _confirm(self, message: Previewed) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._enroll(self.selection.people())
            else:
                self.enrolling = False

        self.app.push_screen(
            ConfirmScreen("Enroll the marked people?", message.body, "Enroll"), answered
        )

    @writes("picker-enroll")
    def _enroll(self, people: dict[str, Picked]) -> None:
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
