"""Lead or contact detail: what they engaged with (summary, score, weekly activity), fields and
reachability flags, the Campaign Memberships sidebar, the activity timeline, the score explained."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import (
    Button,
    DataTable,
    Header,
    Input,
    Label,
    Select,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from data.conversion import ConversionResult, convert_lead, parse_amount
from data.engaged import SPARK_WEEKS, PersonActivity, ScorePart, person_activity
from data.enrollment import enroll
from data.journal import PersonChange, history_of
from data.members import Membership, campaigns_open_to
from data.models import Campaign, Contact, Lead, Person, ValidationError
from data.opportunities import OpportunityRow, opportunities_of, set_stage
from data.people import company_of, person_model
from data.score import HALF_LIFE_DAYS, WEIGHTS
from data.vocab import JournalAction, OpportunityStage
from screens.base import AppModal, AppScreen
from screens.modals import ChoiceScreen
from tui_app.widgets.activity_table import ActivitySource, ActivityTable
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import (
    STAGE_STYLES,
    STATUS_STYLES,
    assemble,
    day,
    literal,
    money,
)
from tui_app.widgets.messages import Notice
from tui_app.widgets.paged_table import PagedTable
from tui_app.widgets.work import deliver, reads, writes

CAMPAIGN_WIDTH = 22
"""The sidebar's campaign column; the highlighted membership shows its full name above."""


def full_name(person: Person) -> str:
    return f"{person.first_name} {person.last_name}".strip()


def reachability(person: Person) -> Text:
    """Do-not-email and bounced stand out in red: nobody should email this person by mistake."""
    if not (person.do_not_email or person.email_bounced):
        return Text("can be emailed", style="green")
    text = Text()
    if person.do_not_email:
        text.append(" DO NOT EMAIL ", style="bold white on red")
    if person.email_bounced:
        text.append("\n" if person.do_not_email else "")
        text.append(" EMAIL BOUNCED ", style="bold white on red")
    return text


def opportunity_lines(deals: list[OpportunityRow]) -> list[Text]:
    """Each deal: its name, then amount, stage and campaign source."""
    lines = [Text(""), Text("Opportunities", style="bold")]
    for deal in deals:
        lines.append(literal(deal.name, overflow="fold"))
        detail = assemble(
            (f"  {money(deal.amount)} · ", "dim"),
            (deal.stage, STAGE_STYLES.get(deal.stage, "")),
        )
        if deal.campaign:
            detail.append_text(assemble(("  from ", "dim"), (deal.campaign, "dim")))
        lines.append(detail)
    return lines


def person_facts(
    person: Person, kind: str, converted_to: Contact | None, deals: list[OpportunityRow]
) -> Group:
    """The person's fields as label/value rows; user text stays literal."""
    rows: list[tuple[str, str]] = [
        ("Title", person.title or "—"),
        ("Company" if kind == "lead" else "Account", company_of(person) or "—"),
        ("Country", person.country or "—"),
        ("Industry", person.industry or "—"),
        ("Created", day(person.created_at)),
    ]
    if kind == "lead":
        rows += [("Source", person.lead_source or "—"), ("Status", person.lead_status or "—")]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True, width=8)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, literal(value))
    grid.add_row("", "")
    grid.add_row("Email to", reachability(person))
    parts = [
        literal(full_name(person), "bold", overflow="fold"),
        Text(kind.title(), style="dim"),
        literal(person.email, overflow="fold"),
        Text(""),
        grid,
    ]
    if converted_to is not None:
        parts += [
            Text(""),
            Text("Converted to contact", style="bold green"),
            literal(full_name(converted_to), overflow="fold"),
            literal(converted_to.email, overflow="fold"),
        ]
    if deals:
        parts += opportunity_lines(deals)
    return Group(*parts)


def membership_line(m: Membership, kind: str) -> Text:
    """The highlighted membership in full: the table's campaign column may cut the name."""
    text = assemble((m.campaign, "bold"), (f"  {m.campaign_type} · {m.campaign_status}", "dim"))
    if m.converted_at:
        text.append(f" · converted {day(m.converted_at)}", style="green")
    if m.via != kind:
        text.append(f" · via {m.via}", style="dim")
    return text


HOW = {
    JournalAction.ENROLL: ("added to", "at its start"),
    JournalAction.ADD: ("added to", "by hand"),
    JournalAction.REMOVE: ("removed from", "by hand"),
    JournalAction.CLEAN: ("removed from", "as bounced or unsubscribed"),
}
"""How each journal action reads on a person's record: what happened, and how."""

HISTORY_LINES = 4
"""Changes listed under the memberships; older ones are counted."""


def history_lines(changes: list[PersonChange]) -> Text:
    """When and how the person was added to or removed from campaigns, newest first."""
    if not changes:
        return Text("No additions or removals recorded.", style="dim")
    text = Text()
    for change in changes[:HISTORY_LINES]:
        what, how = HOW[JournalAction(change.action)]
        if text:
            text.append("\n")
        text.append(day(change.at), style="dim")
        text.append_text(
            assemble(f"  {what} ", (change.campaign or "a deleted campaign", "bold"), f" {how}")
        )
        text.append_text(assemble(" · ", (change.who, "dim")))
        if change.undone:
            text.append(" · undone", style="italic")
    if len(changes) > HISTORY_LINES:
        text.append(f"\n… {len(changes) - HISTORY_LINES:,} earlier", style="dim")
    return text


def score_line(activity: PersonActivity) -> Text:
    """The score, beside the weekly sparkline."""
    text = assemble(("Engagement ", "bold"), (f" {activity.score}/100 ", "bold reverse"))
    if activity.stopped:
        text.append("  bounced or unsubscribed: 0 for good", style="red")
    text.append("  3 explains it", style="dim")
    return text


def summary_text(activity: PersonActivity) -> Text:
    """What a rep reads first: two or three lines of what the person engaged with."""
    text = Text(no_wrap=True, overflow="ellipsis")  # a line each, cut rather than wrapped
    for line in activity.summary or ["No engagement yet."]:
        if text:
            text.append("\n")
        text.append_text(literal(line))
    return text


def score_explanation(activity: PersonActivity) -> Text:
    """Which events gave the score what, and the rule (`score`)."""
    text = assemble(("Score ", "bold"), (f"{activity.score}/100", "bold"))
    text.no_wrap, text.overflow = True, "ellipsis"
    if activity.stopped:
        text.append("\nA bounce or an unsubscribe made it 0 for good.", style="red")
    parts: list[ScorePart] = activity.explanation
    for part in parts[:12]:
        text.append("\n")
        text.append(f"+{part.points:5.1f}  ", style="bold green" if part.points >= 1 else "dim")
        text.append_text(literal(part.what, "bold"))
        if part.content:
            text.append_text(assemble(" ‘", (part.content, ""), "’"))
        text.append_text(assemble(("  in ", "dim"), (part.campaign, "dim")))
        if part.count > 1:
            text.append(f"  ×{part.count}", style="dim")
    if len(parts) > 12:
        text.append(f"\n… {len(parts) - 12} more, each worth less", style="dim")
    if not parts and not activity.stopped:
        text.append("\nNo engagement in the last year.", style="dim")
    return text


def score_rule() -> Text:
    """The rule in one sentence, from the weights themselves (`score`)."""
    weights = ", ".join(f"{kind} {weight:g}" for kind, weight in WEIGHTS.items())
    return Text(
        f"Each event weighs ({weights}; an attendance as a response), halving every "
        f"{HALF_LIFE_DAYS} days; machine opens and events over a year old count nothing; a "
        "bounce or an unsubscribe makes it 0.",
        style="dim",
    )


class PersonDetailScreen(AppScreen):
    """One lead or contact, and every campaign they are in, newest first."""

    class Loaded(Message):
        """The person, the contact a lead became (if any) and their memberships."""

        def __init__(
            self,
            person: Person,
            converted_to: Contact | None,
            activity: PersonActivity,
            history: list[PersonChange],
            deals: list[OpportunityRow],
        ) -> None:
            super().__init__()
            self.person = person
            self.converted_to = converted_to
            self.activity = activity
            self.memberships = activity.memberships
            self.history = history
            self.deals = deals

    class Offered(Message):
        """The campaigns this person could be added to."""

        def __init__(self, campaigns: list[Campaign]) -> None:
            super().__init__()
            self.campaigns = campaigns

    DEFAULT_CSS = """
    PersonDetailScreen #engagement-bar { height: auto; background: $boost; }
    PersonDetailScreen #score-row { height: 1; }
    PersonDetailScreen #engagement { width: 1fr; padding: 0 1; }
    PersonDetailScreen #weeks-title { width: auto; color: $text-muted; }
    PersonDetailScreen #weeks { width: 24; height: 1; margin: 0 1; }
    PersonDetailScreen #summary {
        height: auto; max-height: 3; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PersonDetailScreen #score-rule { width: 1fr; height: auto; padding: 1 1 0 1; }
    PersonDetailScreen #person-body { height: 1fr; }
    PersonDetailScreen #person-tabs { width: 1fr; height: 1fr; }
    PersonDetailScreen #person-tabs TabPane { padding: 0; }
    PersonDetailScreen #activity { height: 1fr; }
    PersonDetailScreen #score-explained {
        width: 1fr; height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PersonDetailScreen #person-facts {
        width: 32; height: 100%; padding: 0 1; border-right: tall $panel;
    }
    PersonDetailScreen #memberships-side { width: 1fr; }
    PersonDetailScreen #memberships-title { padding: 0 1; height: 1; background: $boost; }
    PersonDetailScreen #membership-line { padding: 0 1; height: 1; }
    PersonDetailScreen #memberships { height: 1fr; }
    PersonDetailScreen #history-title { padding: 0 1; height: 1; background: $boost; }
    PersonDetailScreen #history { padding: 0 1; height: auto; max-height: 6; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("1", "view('memberships')", "Memberships"),
        Binding("2", "view('activity')", "Activity"),
        Binding("3", "view('score')", "Score"),
        Binding("h", "history", "History"),
        Binding("g", "open_campaign", "Campaign"),
        Binding("a", "add_to_campaign", "Add to campaign"),
        Binding("v", "convert", "Convert lead"),
        Binding("o", "stage", "Opportunity stage"),
    ]

    def __init__(self, kind: str, person_id: int) -> None:
        super().__init__()
        self.kind = kind
        self.person_id = person_id
        self.person: Person | None = None
        self.deals: list[OpportunityRow] = []
        self.memberships: dict[str, Membership] = {}
        self.member_ids: tuple[int, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="engagement-bar"):
            with Horizontal(id="score-row"):
                yield Static(id="engagement")
                yield Static(f"last {SPARK_WEEKS} weeks", id="weeks-title")
                yield Sparkline([0] * SPARK_WEEKS, summary_function=max, id="weeks")
            yield Static(id="summary")
        with Horizontal(id="person-body"):
            yield Static(id="person-facts")
            with TabbedContent(id="person-tabs"):
                with TabPane("Memberships 1", id="memberships-tab"):
                    with Vertical(id="memberships-side"):
                        yield Static(
                            Text("Campaign Memberships", style="bold"), id="memberships-title"
                        )
                        yield Static(id="membership-line")
                        table = DataTable(id="memberships", cursor_type="row", zebra_stripes=True)
                        # fixed widths: a DataTable sizes automatic columns when idle, which
                        # would make what shows depend on the machine's speed
                        table.add_column("Campaign", width=CAMPAIGN_WIDTH)
                        table.add_column("Status", width=12)
                        for title in ("Added", "Opened", "Clicked", "Responded"):
                            table.add_column(title, width=10)
                        yield table
                        yield Static(Text("Added and removed", style="bold"), id="history-title")
                        yield Static(id="history")
                with TabPane("Activity 2", id="activity-tab"):
                    yield ActivityTable(id="activity")
                with TabPane("Score 3", id="score-tab"):
                    yield Static(id="score-explained")
                    yield Static(score_rule(), id="score-rule")
        yield AppFooter()

    def on_mount(self) -> None:
        self.sub_title = self.kind.title()
        self.query_one("#memberships").focus()

    def on_screen_resume(self) -> None:
        """Shown first, or back from a campaign (where the membership may have changed)."""
        self.load()

    def reread(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "stage":
            return bool(self.deals)
        if action == "convert":
            return self.kind == "lead" and not getattr(self.person, "converted_contact_id", None)
        if action in ("history", "open_campaign"):
            return bool(self.memberships)
        return True

    def subject(self) -> type:
        return person_model(self.kind)

    @reads("person")
    def load(self) -> None:
        person = person_model(self.kind).get_by_id(self.person_id)  # gone: the screen closes
        company_of(person)  # the account is read here, not on the UI thread
        converted_to = None
        if self.kind == "lead" and person.converted_contact_id:
            converted_to = Contact.get_or_none(id=person.converted_contact_id)
        activity, history = person_activity(person, self.app.now()), history_of(person)
        deals = opportunities_of(person)
        deliver(self, self.Loaded(person, converted_to, activity, history, deals))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        person, converted_to, memberships = (
            message.person,
            message.converted_to,
            message.memberships,
        )
        self.person = person
        self.memberships = {str(m.member_id): m for m in memberships}
        self.refresh_bindings()
        self.deals = message.deals
        self.query_one("#person-facts", Static).update(
            person_facts(person, self.kind, converted_to, message.deals)
        )
        self.query_one("#engagement", Static).update(score_line(message.activity))
        self.query_one("#summary", Static).update(summary_text(message.activity))
        self.query_one("#weeks", Sparkline).data = message.activity.weeks
        self.query_one("#score-explained", Static).update(score_explanation(message.activity))
        member_ids = tuple(m.member_id for m in memberships)
        activity = self.query_one("#activity", ActivityTable)
        if member_ids != self.member_ids:
            self.member_ids = member_ids
            activity.show(ActivitySource(member_ids))
        else:
            activity.reload()
        summary = (
            f"  {len(memberships)} · newest first · enter shows its history"
            if memberships
            else "  not in any campaign yet · a adds one"
        )
        self.query_one("#memberships-title", Static).update(
            Text.assemble(("Campaign Memberships", "bold"), summary)
        )
        self.query_one("#history", Static).update(history_lines(message.history))
        table = self.query_one("#memberships", DataTable)
        keep = table.cursor_row
        table.clear()
        for m in memberships:
            name = literal(m.campaign, no_wrap=True, overflow="ellipsis")
            if m.via != self.kind:
                name.append(f"\nvia {m.via}", style="dim italic")
            table.add_row(
                name,
                literal(m.status, STATUS_STYLES.get(m.standing, "")),
                day(m.added_at),
                day(m.first_opened_at),
                day(m.first_clicked_at),
                day(m.response_date),
                key=str(m.member_id),
                height=2 if m.via != self.kind else 1,
            )
        if memberships:
            table.move_cursor(row=min(keep, len(memberships) - 1), animate=False)
        else:
            self.query_one("#membership-line", Static).update("")

    @on(DataTable.RowHighlighted, "#memberships")
    def _describe(self, event: DataTable.RowHighlighted) -> None:
        m = self.memberships.get(event.row_key.value)
        line = membership_line(m, self.kind) if m else ""
        self.query_one("#membership-line", Static).update(line)

    @on(DataTable.RowSelected, "#memberships")
    def _open_history(self, event: DataTable.RowSelected) -> None:
        """Enter on a membership: that member's own history, not the whole campaign."""
        chosen = self.memberships.get(event.row_key.value)
        if chosen is not None:
            self.app.open_member_events(chosen.member_id)

    def _highlighted(self) -> Membership | None:
        table = self.query_one("#memberships", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.memberships.get(key or "")

    def action_history(self) -> None:
        chosen = self._highlighted()
        if chosen is not None:
            self.app.open_member_events(chosen.member_id)

    def action_open_campaign(self) -> None:
        chosen = self._highlighted()
        if chosen is not None:
            self.app.open_campaign(chosen.campaign_id)

    def action_view(self, view: str) -> None:
        """1, 2, 3: the memberships, the activity across campaigns, the score explained."""
        self.query_one("#person-tabs", TabbedContent).active = f"{view}-tab"
        focus = {"memberships": "#memberships", "activity": "#activity"}.get(view)
        if focus:
            self.query_one(focus).focus()

    @on(PagedTable.Selected, "#activity")
    def _activity_history(self, event: PagedTable.Selected) -> None:
        """Enter on an activity: the history of the membership it belongs to."""
        row = event.row
        chosen = next(
            (m for m in self.memberships.values() if m.campaign_id == row.campaign_id), None
        )
        if chosen is not None:
            self.app.open_member_events(chosen.member_id)

    # Add to Campaign
    def action_add_to_campaign(self) -> None:
        self._offer_campaigns()

    @reads("person-add")
    def _offer_campaigns(self) -> None:
        person = person_model(self.kind).get_by_id(self.person_id)
        deliver(self, self.Offered(campaigns_open_to(person)))

    @on(Offered)
    def _choose_campaign(self, message: Offered) -> None:
        if not message.campaigns:
            self.notify("Already in every planned and running campaign.", severity="warning")
            return
        choices = [
            (str(c.id), assemble((c.name, ""), (f"   {c.type} · {c.status}", "dim")))
            for c in message.campaigns
        ]
        self.app.push_screen(
            ChoiceScreen(
                "Add to campaign",
                choices,
                note="Planned and running campaigns this person is not in yet.",
            ),
            self._add_to,
        )

    def _add_to(self, campaign_id: str | None) -> None:
        if campaign_id:
            self._enroll(int(campaign_id))

    @writes("person-add")
    def _enroll(self, campaign_id: int) -> None:
        campaign = Campaign.get_by_id(campaign_id)
        result = enroll(campaign, people={self.kind: [self.person_id]}, now=self.app.now())
        severity = "information" if result.enrolled else "warning"
        self.post_message(
            Notice(f"{campaign.name}: {result.summary()}", severity=severity, changed=True)
        )

    # Opportunity stage
    def action_stage(self) -> None:
        if len(self.deals) == 1:
            self._choose_stage(str(self.deals[0].id))
            return
        choices = [
            (str(d.id), assemble((d.name, ""), (f"   {money(d.amount)} · {d.stage}", "dim")))
            for d in self.deals
        ]
        self.app.push_screen(ChoiceScreen("Which opportunity?", choices), self._choose_stage)

    def _choose_stage(self, deal_id: str | None) -> None:
        deal = next((d for d in self.deals if str(d.id) == deal_id), None)
        if deal is None:
            return
        choices = [(str(stage), str(stage)) for stage in OpportunityStage if stage != deal.stage]
        note = f"Now {deal.stage}. Closed Won counts in its campaign source's won amount."
        self.app.push_screen(
            ChoiceScreen(assemble("Stage of ", (deal.name, "bold")), choices, note=note),
            lambda stage: self._set_stage(deal, stage) if stage else None,
        )

    @writes("person-stage")
    def _set_stage(self, deal: OpportunityRow, stage: str) -> None:
        set_stage(deal.id, stage)
        self.post_message(Notice(f"{deal.name}: now {stage}.", changed=True))

    # Convert
    def action_convert(self) -> None:
        if not self.check_action("convert", ()):
            return
        sources = [(m.campaign, m.campaign_id) for m in self.memberships.values()]
        name = full_name(self.person) if self.person else ""
        self.app.push_screen(ConvertLeadScreen(self.person_id, name, sources), self._converted)

    def _converted(self, result: ConversionResult | None) -> None:
        """The lead is done with: show the contact it became, where its future lives."""
        if result is None:
            return
        self.app.notify_changed()
        made = "a new contact" if result.created_contact else "the existing contact"
        note = f"Converted to {made}"
        if result.opportunity is not None:
            note += f" with opportunity {result.opportunity.name}"
        if result.source_member is not None:
            note += f"; its campaign source membership is now {result.source_member.status}"
        self.notify(note + ".")
        self.app.pop_screen()
        self.app.open_person("contact", result.contact.id)


class ConvertLeadScreen(AppModal[ConversionResult | None]):
    """Convert a lead into a contact, optionally with an opportunity and its campaign source."""

    class Refused(Message):
        """The conversion was refused; the reason shows under the fields."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Done(Message):
        def __init__(self, result: ConversionResult) -> None:
            super().__init__()
            self.result = result

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "convert", "Convert")]

    DEFAULT_CSS = """
    ConvertLeadScreen .field { height: 3; }
    ConvertLeadScreen .field Label { width: 17; padding: 1 1 0 0; color: $text-muted; }
    ConvertLeadScreen .field Input, ConvertLeadScreen .field Select { width: 1fr; }
    ConvertLeadScreen #convert-error { height: auto; margin-top: 1; }
    """

    def __init__(self, lead_id: int, lead_name: str, sources: list[tuple[str, int]]) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.lead_name = lead_name
        self.sources = sources
        self.converting = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                assemble(("Convert lead ", "bold"), (self.lead_name, "bold")),
                classes="dialog-title",
            )
            yield Static(
                "The lead becomes a contact (or joins the contact with its email). Leave the "
                "opportunity empty to convert without one.",
                classes="dialog-body",
            )
            with Horizontal(classes="field"):
                yield Label("Opportunity")
                yield Input(placeholder="name (optional)", id="opportunity")
            with Horizontal(classes="field"):
                yield Label("Amount")
                yield Input(placeholder="e.g. 12000", id="amount")
            with Horizontal(classes="field"):
                yield Label("Campaign source")
                yield Select(
                    [(literal(name), cid) for name, cid in self.sources],
                    prompt="none (optional)",
                    id="source",
                )
            yield Static(id="convert-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Convert (ctrl+s)", variant="primary", id="convert")
                yield Button("Cancel (esc)", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#convert")
    def action_convert(self) -> None:
        name = self.query_one("#opportunity", Input).value.strip()
        raw_amount = self.query_one("#amount", Input).value.strip()
        source = self.query_one("#source", Select).value
        source_id = source if isinstance(source, int) else None
        try:
            amount = parse_amount(raw_amount or "0")
        except ValidationError as exc:
            self._error(str(exc))
            return
        if not name and (raw_amount or source_id is not None):
            self._error("An amount or a campaign source needs an opportunity name.")
            return
        if not self.converting:  # a second ctrl+s while the first runs converts nothing more
            self.converting = True
            self._convert(name or None, amount, source_id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _error(self, message: str) -> None:
        self.query_one("#convert-error", Static).update(literal(message))
        self.notify(message, severity="error")

    def work_failed(self, error: BaseException) -> None:
        self.converting = False
        super().work_failed(error)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.converting = False
        self._error(message.reason)

    @on(Done)
    def _done(self, message: Done) -> None:
        self.dismiss(message.result)

    @writes("convert")
    def _convert(self, name: str | None, amount: Decimal, source_id: int | None) -> None:
        try:
            lead = Lead.get_by_id(self.lead_id)
            source = Campaign.get_by_id(source_id) if source_id is not None else None
            result = convert_lead(
                lead,
                opportunity_name=name,
                amount=amount,
                campaign_source=source,
                now=self.app.now(),
            )
        except ValidationError as exc:
            self.post_message(self.Refused(str(exc)))
            return
        self.post_message(self.Done(result))
