"""One campaign: its facts, metric gauges, and the Members tab with the four list views."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import (
    Header,
    Input,
    Static,
    Tab,
    TabbedContent,
    TabPane,
    Tabs,
)

from data.audience import describe_filters
from data.engagement import status_choices
from data.enrollment import (
    EnrollmentResult,
    clean_exits,
    exits_count,
    remove_marked,
    remove_members,
)
from data.hierarchy import hierarchy_metrics, in_hierarchy
from data.ingest import set_member_status
from data.labels import campaign_ladder, label_counts, label_names, shown_status
from data.members import VIEWS, Marked, MemberRow
from data.models import Campaign, CampaignMember, ValidationError
from data.rollups import Metrics, campaign_metrics
from data.status_change import raise_marked
from data.status_import import StatusImportReport
from data.text import counted
from data.transfer import write_members_csv
from screens.base import AppScreen
from screens.campaign_list import CAMPAIGN_STATUS_STYLES
from screens.campaign_status import CampaignStatusActions
from screens.journal import JournalScreen, UndoActions
from screens.modals import ChoiceScreen, ConfirmScreen, SaveFileScreen
from tui_app.widgets.content_pane import ContentPane
from tui_app.widgets.filter_box import FILTER_HINT, FilterProblems
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import STATUS_STYLES, assemble, money
from tui_app.widgets.funnel import LabelFunnel
from tui_app.widgets.gauge import MetricGauges
from tui_app.widgets.hierarchy import hierarchy_totals
from tui_app.widgets.member_table import MemberMarks, MemberTable
from tui_app.widgets.messages import Notice
from tui_app.widgets.trend_pane import TrendPane
from tui_app.widgets.work import deliver, reads, writes

GAUGES = (
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("responded", "Responded"),
    ("converted", "Converted"),
    ("delivered", "Delivered"),
    ("bounced", "Bounced"),
    ("unsubscribed", "Unsubscribed"),
)
"""The rollups shown as gauges, each out of Sent."""


def machine_opens(count: int) -> tuple:
    """Opens a machine made, beside the gauges once there are any: Opened counts people only."""
    if not count:
        return ()
    return (("   Machine opens ", "dim"), f"{count:,}", (" (not in Opened)", "dim"))


class CampaignDetailScreen(UndoActions, CampaignStatusActions, AppScreen):
    """Facts, gauges and members of one campaign, live."""

    search = ""
    """The member filter the list shows: the box's text when last it read in full."""

    class Loaded(Message):
        """The campaign's facts and rollups, read afresh."""

        def __init__(
            self,
            campaign: Campaign,
            metrics: Metrics,
            funnel: list[tuple[str, int, bool]],
            hierarchy: tuple[Metrics, int] | None = None,
        ) -> None:
            super().__init__()
            self.campaign = campaign
            self.metrics = metrics
            self.funnel = funnel
            self.hierarchy = hierarchy
            """A parent's totals over its hierarchy, and how many campaigns it holds."""
            """(label, members holding it, responded label) in the campaign's order."""

    class StatusChoices(Message):
        """What a member's status could be raised to, and why the rest cannot be chosen."""

        def __init__(self, row: MemberRow, choices: list[tuple[str, str | None]]) -> None:
            super().__init__()
            self.row = row
            self.choices = choices

    class MarksCounted(Message):
        """How many members the marks stand for (once a filter stands for them)."""

        def __init__(self, marked: Marked, count: int) -> None:
            super().__init__()
            self.marked = marked
            self.count = count

    class MarkedChoices(Message):
        """The campaign's labels, to raise the marked members to one of them."""

        def __init__(self, labels: list[str]) -> None:
            super().__init__()
            self.labels = labels

    class MarkedRemoved(Message):
        """The marked members are gone: so are the marks."""

    class CleanCounted(Message):
        """How many bounced and unsubscribed members cleaning would remove."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    DEFAULT_CSS = """
    CampaignDetailScreen #facts { height: auto; padding: 0 1; background: $boost; }
    CampaignDetailScreen #member-bar { height: 3; }
    CampaignDetailScreen #member-filter { width: 1fr; }
    CampaignDetailScreen #member-count { width: auto; min-width: 24; padding: 1 1 0 1; }
    CampaignDetailScreen TabbedContent { height: 1fr; }
    CampaignDetailScreen TabPane { padding: 0; }
    CampaignDetailScreen #about { padding: 1 2; }
    CampaignDetailScreen #metrics { height: auto; }
    CampaignDetailScreen #gauges { width: 1fr; }
    CampaignDetailScreen #funnel { width: 36; }
    CampaignDetailScreen.-narrow #funnel { display: none; }
    CampaignDetailScreen #statuses-pane { padding: 1 1; }
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    """Below 110 columns the label funnel leaves the gauges their width (it stays on the
    Statuses tab)."""

    AUTO_FOCUS = "MemberTable"  # focused as the screen mounts: no second footer rebuild

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("1", "view('all')", "All", show=False),
        Binding("2", "view('responded')", "Responded", show=False),
        Binding("3", "view('bounced-unsubscribed')", "Exits", show=False),
        Binding("4", "view('converted')", "Converted", show=False),
        Binding("a", "add_members", "Add members"),
        Binding("s", "member_status", "Member status"),
        Binding("d,delete", "remove", "Remove"),
        Binding("h", "history", "History"),
        Binding("c", "clean", "Clean exits"),
        Binding("x", "export", "Export CSV"),
        Binding("l", "labels", "Statuses"),
        Binding("i", "import_statuses", "Import statuses"),
        Binding("t", "campaign_status", "Campaign status"),
        Binding("e", "edit", "Edit"),
        Binding("z", "undo", "Undo"),
        Binding("j", "journal", "Journal"),
        Binding("space", "mark", "Mark"),
        Binding("ctrl+t", "mark_all", "Mark all matching", priority=True),
        Binding("ctrl+r", "clear_marks", "Clear marks", priority=True),
        Binding("o", "about", "About tab", show=False),
        Binding("g", "trend", "Trend", show=False),
        Binding("ctrl+o", "sort", "Sort", priority=True),
    ]
    """With rows marked, s, d and x act on the marked rows."""

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.campaign: Campaign | None = None
        self.view = "all"
        self.gauge_figures: dict[str, int] = {}
        self.members_total = 0
        self.opened = False
        """Whether the screen has been shown once (its first resume is its opening)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="facts")
        with Horizontal(id="metrics"):
            yield MetricGauges(id="gauges")
            yield LabelFunnel(id="funnel")
        with TabbedContent(id="tabs"):
            with TabPane("Members", id="members-tab"):
                yield Tabs(*[Tab(title, id=f"v-{key}") for key, title in VIEWS.items()], id="views")
                with Horizontal(id="member-bar"):
                    yield Input(placeholder=FILTER_HINT, id="member-filter")
                    yield Static(id="member-count")
                yield FilterProblems(id="member-problems")
                yield MemberTable(id="members")
            with TabPane("Statuses", id="statuses-tab"):
                with Vertical(id="statuses-pane"):
                    yield LabelFunnel(id="funnel-tab")
                    yield Static(
                        Text(
                            "l edits the statuses · i imports statuses from a CSV · "
                            "s raises the member under the cursor",
                            style="dim",
                        )
                    )
            with TabPane("Content", id="content-tab"):
                yield ContentPane(self.campaign_id, id="content")
            with TabPane("About", id="about-tab"):
                yield Static(id="about")
            with TabPane("Trend", id="trend-tab"):
                yield TrendPane(self.campaign_id, id="trend")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(MemberTable).show_members(self.campaign_id, self.view)
        self.load()

    def on_screen_resume(self) -> None:
        """Back from a screen pushed over this one: read afresh what may have changed
        meanwhile. The first resume is the opening itself, which `on_mount` has loaded."""
        if not self.opened:
            self.opened = True
            return
        self.load()
        self.query_one(MemberTable).reload()

    def reread(self) -> None:
        self.load()
        self.query_one(MemberTable).reload()

    def subject(self) -> type:
        return Campaign

    def undo_scope(self) -> int:
        return self.campaign_id

    def action_journal(self) -> None:
        self.app.push_screen(JournalScreen(self.campaign_id))

    @reads("campaign-facts")
    def load(self) -> None:
        """The facts, gauges and label funnel: a few rows, whatever the campaign's size (the
        rollups and label counts are kept counters)."""
        campaign = Campaign.get_by_id(self.campaign_id)  # gone: the screen closes, saying so
        counts = label_counts([campaign.id])[campaign.id]
        funnel = [
            (label.name, counts.get(label.name, 0), label.responded)
            for label in campaign_ladder(campaign)
        ]
        below = in_hierarchy(campaign)
        hierarchy = (hierarchy_metrics(campaign), len(below)) if len(below) > 1 else None
        deliver(self, self.Loaded(campaign, campaign_metrics(campaign), funnel, hierarchy))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        campaign, metrics = message.campaign, message.metrics
        self.campaign = campaign
        dates = " → ".join(
            d.isoformat() if d else "—" for d in (campaign.start_date, campaign.end_date)
        )
        self.query_one("#facts", Static).update(
            assemble(
                (campaign.name, "bold"),
                "   ",
                campaign.type,
                "   ",
                (campaign.status, CAMPAIGN_STATUS_STYLES.get(campaign.status, "")),
                f"   {dates}",
                "   Sent ",
                (f"{metrics.sent:,}", "bold"),
                "\n",
                ("Audience: ", "dim"),
                (describe_filters(campaign.audience_kind, campaign.filters), ""),
                *(("\n", hierarchy_totals(*message.hierarchy)) if message.hierarchy else ()),
            )
        )
        figures = [(label, getattr(metrics, key)) for key, label in GAUGES]
        self.query_one(MetricGauges).show(
            figures[:4],
            figures[4:],
            metrics.sent,
            footer=Text.assemble(
                ("Won ", "dim"),
                money(metrics.won_amount),
                ("   Cost per response ", "dim"),
                money(metrics.cost_per_response),
                *machine_opens(metrics.machine_opens),
            ),
        )
        self.gauge_figures = dict(figures) | {"Machine opens": metrics.machine_opens}
        for funnel in self.query(LabelFunnel):
            funnel.show(message.funnel, metrics.sent)
        self.query_one("#about", Static).update(
            assemble(
                ("Type  ", "bold"),
                (campaign.type, ""),
                "\n",
                ("Status  ", "bold"),
                campaign.status,
                "\n",
                ("Dates  ", "bold"),
                dates,
                "\n",
                ("Budgeted cost  ", "bold"),
                money(float(campaign.budgeted_cost or 0)),
                "\n",
                ("Actual cost  ", "bold"),
                money(float(campaign.actual_cost or 0)),
                "\n",
                ("Audience  ", "bold"),
                describe_filters(campaign.audience_kind, campaign.filters),
                "\n\n",
                ("Description", "bold"),
                "\n",
                campaign.description or "—",
            )
        )

    # the member list
    @on(MemberTable.Loaded)
    def _counted(self, event: MemberTable.Loaded) -> None:
        self.members_total = event.total
        if self.marks.matching is not None:
            self._count_marks(self.marks.marked(self.campaign_id))
        self._show_count()

    @on(MemberTable.Counting)
    def _counting(self) -> None:
        self._show_count()

    def _show_count(self) -> None:
        search = self.search.strip()
        if not self.query_one(MemberTable).counted:
            label = Text("counting members…")
        elif search:
            label = Text(counted(self.members_total, "member matches", "members match"))
        else:
            label = Text(counted(self.members_total, "member"))
        if self.marks:
            label.append(f" · {self.marks.count:,} marked", style="bold green")
        if self.query_one("#member-filter", Input).value != self.search:
            label.append(" · filter not read", style="bold red")
        self.query_one("#member-count", Static).update(label)

    @on(Tabs.TabActivated, "#views")
    def _view_chosen(self, event: Tabs.TabActivated) -> None:
        view = event.tab.id.removeprefix("v-")
        if view != self.view:
            self.view = view
            self._show_members()

    @on(Input.Changed, "#member-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        problems = self.query_one(FilterProblems)
        problems.labels = label_names(self.campaign_id)
        if problems.explain(event.value):
            self.search = event.value
            self._show_members(typed=True)
        else:  # the list, and its count, stay those of the last filter that read
            self._show_count()

    @on(Input.Submitted, "#member-filter")
    def _filter_done(self) -> None:
        self.query_one(MemberTable).focus()

    def _show_members(self, typed: bool = False) -> None:
        search = self.search
        if self.marks.matching is not None:  # they stood for the list that was on screen
            self.marks.clear()
            self.query_one(MemberTable).rows_changed()
            self.notify("Marks cleared: they were every match of the list before.")
        self.query_one(MemberTable).show_members(self.campaign_id, self.view, search, typed=typed)

    # marking rows
    @property
    def marks(self) -> MemberMarks:
        return self.query_one(MemberTable).marks

    def action_mark(self) -> None:
        table = self.query_one(MemberTable)
        row = table.current_row
        if row is None:
            return
        first = not self.marks
        self.marks.toggle(row.id)
        if first or not self.marks:
            table.rows_changed()  # the mark column comes or goes
        else:
            table.row_changed(table.cursor)
        if first:
            self.notify(MARKS_HINT)
        self._show_count()
        table.action_move(1)

    def action_mark_all(self) -> None:
        table = self.query_one(MemberTable)
        if not table.total:
            self.notify("No members to mark.")
            return
        first = not self.marks
        self.marks.mark_matching(table.view, table.search)
        self.marks.count = table.total  # the list on screen is the match (the database confirms)
        table.rows_changed()
        self._count_marks(self.marks.marked(self.campaign_id))
        if first:
            self.notify(MARKS_HINT)

    @reads("marks-count")
    def _count_marks(self, marked: Marked) -> None:
        deliver(self, self.MarksCounted(marked, marked.count()))

    @on(MarksCounted)
    def _marks_counted(self, message: MarksCounted) -> None:
        if message.marked == self.marks.marked(self.campaign_id):  # not marked otherwise since
            self.marks.count = message.count
            self._show_count()

    def action_clear_marks(self) -> None:
        if self.marks:
            self.marks.clear()
            self.query_one(MemberTable).rows_changed()
            self._show_count()

    @on(MemberTable.Selected)
    def _open_person(self, event: MemberTable.Selected) -> None:
        self.app.open_person(event.row.person_type, event.row.person_id)

    def _member(self) -> MemberRow | None:
        row = self.query_one(MemberTable).current_row
        if row is None:
            self.notify("No member selected.", severity="warning")
        return row

    def action_back(self) -> None:
        if self.focused is self.query_one("#member-filter"):
            self.query_one(MemberTable).focus()
        else:
            self.app.pop_screen()

    def action_filter(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "members-tab"
        self.query_one("#member-filter").focus()

    def action_about(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "about-tab"
        # the focus leaves the hidden member list for the tab strip (else it brings the
        # Members tab back): ← → then move between the tabs
        self.query_one("#tabs > Tabs").focus()

    def action_trend(self) -> None:
        """The engagement chart; ← → move on to the other tabs."""
        self.query_one("#tabs", TabbedContent).active = "trend-tab"
        self.query_one("#tabs > Tabs").focus()

    def action_sort(self) -> None:
        """Sort the member list by its next column (or the other way), keeping view and filter."""
        self.query_one(MemberTable).cycle_order()

    def action_view(self, view: str) -> None:
        self.query_one("#tabs", TabbedContent).active = "members-tab"
        self.query_one("#views", Tabs).active = f"v-{view}"
        self.query_one(MemberTable).focus()

    def action_history(self) -> None:
        row = self._member()
        if row is not None:
            self.app.open_member_events(row.id)

    def action_edit(self) -> None:
        from screens.campaign_form import CampaignFormScreen

        self.app.push_screen(CampaignFormScreen(self.campaign_id))

    def action_campaign_status(self) -> None:
        if self.campaign is not None:
            self.ask_status_change(self.campaign.id, self.campaign.name, self.campaign.status)

    # adding members
    def action_add_members(self) -> None:
        from screens.add_members import AddMembersScreen

        self.app.push_screen(AddMembersScreen(self.campaign_id), self._members_added)

    def _members_added(self, result: EnrollmentResult | None) -> None:
        if result is not None:
            self.notify(result.summary().capitalize() + ".")
            self.app.notify_changed()

    # raising a member's status
    def _none_marked(self) -> bool:
        """Marks that stand for no member (all unmarked again, or nothing matches any more)."""
        if self.marks and not self.marks.count:
            self.notify("No rows are marked (ctrl+r clears the marks).", severity="warning")
            return True
        return False

    def action_member_status(self) -> None:
        if self._none_marked():
            return
        if self.marks:
            self._marked_choices()
            return
        row = self._member()
        if row is not None:
            self._status_choices(row)

    @reads("member-status")
    def _marked_choices(self) -> None:
        deliver(
            self, self.MarkedChoices([label.name for label in campaign_ladder(self.campaign_id)])
        )

    @on(MarkedChoices)
    def _ask_marked_status(self, message: MarkedChoices) -> None:
        count = self.marks.count
        marked = self.marks.marked(self.campaign_id)
        self.app.push_screen(
            ChoiceScreen(
                f"Status of {plural(count, 'marked member')}",
                [(name, Text(name, style="bold")) for name in message.labels],
                note="Each marked member is raised to the status chosen; a status is never "
                "lowered, so a member already at or past it stays as it is. z undoes it.",
            ),
            lambda status: self._raise_marked(marked, status) if status else None,
        )

    @writes("member-write")
    def _raise_marked(self, marked: Marked, status: str) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        try:
            result = raise_marked(campaign, marked, status, now=self.app.now())
        except ValidationError as refused:
            self.post_message(Notice(f"Cannot change the status: {refused}", severity="error"))
            return
        summary = result.summary()
        text = summary[:1].upper() + summary[1:] + (" (z undoes)." if result.raised else ".")
        self.post_message(Notice(text, changed=True))

    @reads("member-status")
    def _status_choices(self, row: MemberRow) -> None:
        member = CampaignMember.get_by_id(row.id)
        ladder = campaign_ladder(member.campaign_id)
        deliver(self, self.StatusChoices(row, status_choices(member.state, ladder)))

    @on(StatusChoices)
    def _ask_status(self, message: StatusChoices) -> None:
        row = message.row
        choices: list[tuple[str, str | Text]] = []
        for name, why in message.choices:
            if why is None:
                choices.append((name, Text(name, style="bold")))
            else:
                choices.append((name, assemble((name, "dim"), (f"  {why_not(why)}", "dim italic"))))
        offered = [name for name, why in message.choices if why is None]
        self.app.push_screen(
            ChoiceScreen(
                assemble("Status of ", (row.name or row.email, "")),
                choices,
                note=assemble(
                    "Now ",
                    (row.status, STATUS_STYLES.get(row.standing, "bold")),
                    ". A status can be raised, never lowered: only the statuses that raise "
                    "this member can be chosen."
                    if offered
                    else ". Nothing would raise this member.",
                ),
                unavailable=frozenset(name for name, why in message.choices if why is not None),
            ),
            lambda status: self._set_member_status(row.id, status) if status else None,
        )

    @writes("member-write")
    def _set_member_status(self, member_id: int, status: str) -> None:
        member = CampaignMember.get_by_id(member_id)
        after = set_member_status(member, status, now=self.app.now())
        self.post_message(Notice(f"Member is now {shown_status(after)}.", changed=True))

    # statuses of the campaign
    def action_labels(self) -> None:
        from screens.status_labels import StatusLabelsScreen

        self.app.push_screen(StatusLabelsScreen(self.campaign_id))

    def action_import_statuses(self) -> None:
        from screens.status_import import StatusImportScreen

        name = self.campaign.name if self.campaign is not None else ""
        self.app.push_screen(StatusImportScreen(self.campaign_id, name), self._imported)

    def _imported(self, report: StatusImportReport | None) -> None:
        if report is not None:
            self.notify(f"Status import: {report.summary()}.")
            self.app.notify_changed()

    # removing
    def action_remove(self) -> None:
        if self._none_marked():
            return
        if self.marks:
            count = self.marks.count
            marked = self.marks.marked(self.campaign_id)
            self.app.push_screen(
                ConfirmScreen(
                    "Remove the marked members?",
                    f"Remove {plural(count, 'marked member')} from this campaign? z undoes it.",
                    confirm="Remove",
                ),
                lambda yes: self._remove_marked(marked) if yes else None,
            )
            return
        row = self._member()
        if row is None:
            return
        self.app.push_screen(
            ConfirmScreen(
                "Remove member?",
                assemble(
                    "Remove ",
                    (row.name or row.email, "bold"),
                    (f" <{row.email}>", ""),
                    " from this campaign? z undoes it.",
                ),
                confirm="Remove",
            ),
            lambda yes: self._remove(row.id) if yes else None,
        )

    @writes("member-write")
    def _remove(self, member_id: int) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        removed = remove_members(campaign, [member_id], now=self.app.now())
        self.post_message(Notice(f"Removed {removed} member (z undoes).", changed=True))

    @writes("member-write")
    def _remove_marked(self, marked: Marked) -> None:
        removed = remove_marked(Campaign.get_by_id(self.campaign_id), marked, now=self.app.now())
        self.post_message(self.MarkedRemoved())
        self.post_message(Notice(f"Removed {plural(removed, 'member')} (z undoes).", changed=True))

    @on(MarkedRemoved)
    def _marked_removed(self) -> None:
        self.action_clear_marks()

    # cleaning exits
    def action_clean(self) -> None:
        self._ask_clean()

    @reads("clean")
    def _ask_clean(self) -> None:
        self.post_message(self.CleanCounted(exits_count(Campaign.get_by_id(self.campaign_id))))

    @on(CleanCounted)
    def _confirm_clean(self, message: CleanCounted) -> None:
        if not message.count:
            self.notify("No bounced or unsubscribed members to clean.")
            return
        self.app.push_screen(
            ConfirmScreen(
                "Clean bounces and unsubscribes?",
                f"Remove {counted(message.count, 'bounced and unsubscribed member')} from this "
                "campaign? "
                "The people keep their do-not-email and bounced flags; z undoes it.",
                confirm="Clean",
            ),
            lambda yes: self._clean() if yes else None,
        )

    @writes("clean")
    def _clean(self) -> None:
        removed = clean_exits(Campaign.get_by_id(self.campaign_id), now=self.app.now())
        text = f"Removed {removed:,} bounced and unsubscribed (z undoes)."
        self.post_message(Notice(text, changed=True))

    # export
    def action_export(self) -> None:
        if self._none_marked():
            return
        if self.marks:
            view, search, marked = "all", "", self.marks.marked(self.campaign_id)
        else:
            view, search = self.view, self.search
            marked = None
        name = self.campaign.name if self.campaign is not None else ""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "campaign"
        stamp = self.app.now().strftime("%Y%m%d-%H%M%S")
        which = "marked" if marked is not None else view
        campaign_id = self.campaign_id

        def save(path: Path) -> str:
            campaign = Campaign.get_by_id(campaign_id)
            count = write_members_csv(campaign, view, search, str(path), marked)
            return f"Exported {counted(count, 'member')} to {path}"

        if marked is not None:
            note = f"The {counted(self.marks.count, 'marked member')}."
        else:
            note = f"The {VIEWS.get(view, view)} view" + (
                f", filtered by {search.strip()}." if search.strip() else "."
            )
        title = "Export members to CSV"
        self.app.push_screen(SaveFileScreen(title, f"{slug}-{which}-{stamp}.csv", save, note))


MARKS_HINT = (
    "With rows marked, s raises their status, d removes them, x exports them; "
    "ctrl+r clears the marks."
)


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def why_not(reason: str) -> str:
    """A refusal as the status dialog shows it beside a choice: the reason, without the
    "Cannot lower X to Y:" that the choice itself already says."""
    head, _, why = reason.partition(": ")
    if head.startswith("Cannot lower") and why:
        return why.rstrip(".")
    return reason.rstrip(".")
