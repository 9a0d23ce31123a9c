"""Lead or contact detail: fields, reachability flags, and the Campaign Memberships sidebar."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from data.conversion import ConversionResult, convert_lead, parse_amount
from data.db import database
from data.enrollment import enroll
from data.members import Membership, campaigns_open_to, memberships_of
from data.models import Campaign, Contact, Lead, Person, ValidationError
from data.people import company_of, person_model
from screens.modals import ChoiceScreen
from tui_app.widgets.member_table import STATUS_STYLES, day


def person_facts(person: Person, kind: str, converted_to: Contact | None) -> Text:
    """The person's fields as label/value lines; user text stays literal."""
    lines: list[tuple[str, str]] = [
        ("Email", person.email),
        ("Title", person.title or "—"),
        ("Company" if kind == "lead" else "Account", company_of(person) or "—"),
        ("Country", person.country or "—"),
        ("Industry", person.industry or "—"),
        ("Created", day(person.created_at)),
    ]
    if kind == "lead":
        lines += [("Lead source", person.lead_source or "—"), ("Lead status", person.lead_status)]
    text = Text()
    text.append(f"{person.first_name} {person.last_name}".strip(), style="bold")
    text.append(f"   {kind.title()}\n\n", style="dim")
    for label, value in lines:
        text.append(f"{label:<13}", style="dim")
        text.append(f"{value}\n")
    text.append("\nReachability  ", style="dim")
    if not (person.do_not_email or person.email_bounced):
        text.append("can be emailed", style="green")
    if person.do_not_email:
        text.append("DO NOT EMAIL ", style="bold white on red")
    if person.email_bounced:
        text.append(" EMAIL BOUNCED", style="bold white on red")
    if converted_to is not None:
        text.append("\n\nConverted to contact ", style="dim")
        text.append(f"{converted_to.first_name} {converted_to.last_name} <{converted_to.email}>")
    return text


class PersonDetailScreen(Screen):
    """One lead or contact, and every campaign they are in, newest first."""

    DEFAULT_CSS = """
    PersonDetailScreen #person-body { height: 1fr; }
    PersonDetailScreen #person-facts { width: 48; padding: 1 2; border-right: tall $panel; }
    PersonDetailScreen #memberships-side { width: 1fr; }
    PersonDetailScreen #memberships-title { padding: 0 1; height: 1; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "add_to_campaign", "Add to campaign"),
        Binding("v", "convert", "Convert lead"),
    ]

    def __init__(self, kind: str, person_id: int) -> None:
        super().__init__()
        self.kind = kind
        self.person_id = person_id
        self.memberships: list[Membership] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="person-body"):
            yield Static(id="person-facts")
            with Vertical(id="memberships-side"):
                yield Static(Text("Campaign Memberships", style="bold"), id="memberships-title")
                table = DataTable(id="memberships", cursor_type="row", zebra_stripes=True)
                table.add_columns("Campaign", "Status", "Added", "Opened", "Clicked", "Responded")
                yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#memberships").focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def on_data_changed(self, _message) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "convert":
            return self.kind == "lead"
        return True

    @work(thread=True, exclusive=True, group="person")
    def load(self) -> None:
        with database.connection_context():
            person = person_model(self.kind).get_or_none(id=self.person_id)
            if person is None:
                self.app.call_from_thread(self._gone)
                return
            converted_to = None
            if self.kind == "lead" and person.converted_contact_id:
                converted_to = Contact.get_or_none(id=person.converted_contact_id)
            memberships = memberships_of(person)
        self.app.call_from_thread(self._show, person, converted_to, memberships)

    def _gone(self) -> None:
        self.notify("This person no longer exists.", severity="warning")
        self.app.pop_screen()

    def _show(self, person: Person, converted_to, memberships: list[Membership]) -> None:
        self.person = person
        self.memberships = memberships
        self.query_one("#person-facts", Static).update(
            person_facts(person, self.kind, converted_to)
        )
        summary = (
            f"  {len(memberships)} · newest first · enter opens the campaign"
            if memberships
            else "  not in any campaign yet · a adds one"
        )
        self.query_one("#memberships-title", Static).update(
            Text.assemble(("Campaign Memberships", "bold"), summary)
        )
        table = self.query_one("#memberships", DataTable)
        keep = table.cursor_row
        table.clear()
        for m in memberships:
            name = Text(m.campaign)
            if self.kind == "contact" and m.via == "lead":
                name.append("  via lead", style="dim")
            table.add_row(
                name,
                Text(m.status, style=STATUS_STYLES.get(m.status, "")),
                day(m.added_at),
                day(m.first_opened_at),
                day(m.first_clicked_at),
                day(m.response_date),
                key=str(m.member_id),
            )
        if memberships:
            table.move_cursor(row=min(keep, len(memberships) - 1))

    @on(DataTable.RowSelected, "#memberships")
    def _open_campaign(self, event: DataTable.RowSelected) -> None:
        chosen = self.memberships[event.cursor_row]
        self.app.open_campaign(chosen.campaign_id)

    # Add to Campaign
    def action_add_to_campaign(self) -> None:
        self._offer_campaigns()

    @work(thread=True, exclusive=True, group="person-add")
    def _offer_campaigns(self) -> None:
        with database.connection_context():
            person = person_model(self.kind).get_by_id(self.person_id)
            open_to = campaigns_open_to(person)
        choices = [
            (str(c.id), Text.assemble(c.name, (f"   {c.type} · {c.status}", "dim")))
            for c in open_to
        ]
        self.app.call_from_thread(
            self.app.push_screen,
            ChoiceScreen("Add to campaign", choices, note="Campaigns this person is not in yet."),
            self._add_to,
        )

    def _add_to(self, campaign_id: str | None) -> None:
        if campaign_id:
            self._enroll(int(campaign_id))

    @work(thread=True, group="person-add")
    def _enroll(self, campaign_id: int) -> None:
        with database.connection_context():
            campaign = Campaign.get_by_id(campaign_id)
            result = enroll(campaign, {self.kind: [self.person_id]}, now=self.app.now())
        self.app.call_from_thread(self.app.notify_changed)
        message = f"{campaign.name}: {result.summary()}"
        severity = "information" if result.enrolled else "warning"
        self.app.call_from_thread(self.notify, message, severity=severity, markup=False)

    # Convert
    def action_convert(self) -> None:
        if self.kind != "lead":
            return
        sources = [(m.campaign, m.campaign_id) for m in self.memberships]
        self.app.push_screen(ConvertLeadScreen(self.person_id, sources), self._converted)

    def _converted(self, result: ConversionResult | None) -> None:
        if result is None:
            return
        self.app.notify_changed()
        made = "a new contact" if result.created_contact else "the existing contact"
        note = f"Converted to {made}"
        if result.opportunity is not None:
            note += f" with opportunity {result.opportunity.name}"
        self.notify(note + ".", markup=False)
        self.app.pop_screen()
        self.app.open_person("contact", result.contact.id)


class ConvertLeadScreen(ModalScreen[ConversionResult | None]):
    """Convert a lead into a contact, optionally with an opportunity and its campaign source."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "convert", "Convert")]

    DEFAULT_CSS = """
    ConvertLeadScreen .dialog Input, ConvertLeadScreen .dialog Select { margin-bottom: 1; }
    """

    def __init__(self, lead_id: int, sources: list[tuple[str, int]]) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.sources = sources

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Convert lead", style="bold"), classes="dialog-title")
            yield Static(
                "The lead becomes a contact (or joins the contact with its email). Leave the "
                "opportunity empty to convert without one.",
                classes="dialog-body",
            )
            yield Input(placeholder="Opportunity name (optional)", id="opportunity")
            yield Input(placeholder="Amount, e.g. 12000", id="amount")
            yield Select(
                [(Text(name), cid) for name, cid in self.sources],
                prompt="Campaign source (optional)",
                id="source",
            )
            yield Static(id="convert-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Convert (ctrl+s)", variant="primary", id="convert")
                yield Button("Cancel (esc)", id="cancel")

    @on(Button.Pressed, "#convert")
    def action_convert(self) -> None:
        name = self.query_one("#opportunity", Input).value.strip()
        raw_amount = self.query_one("#amount", Input).value.strip()
        source = self.query_one("#source", Select).value
        try:
            amount = parse_amount(raw_amount or "0")
        except ValidationError as exc:
            self._error(str(exc))
            return
        source_id = source if isinstance(source, int) else None
        if source_id is not None and not name:
            self._error("A campaign source needs an opportunity name.")
            return
        self._convert(name or None, amount, source_id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _error(self, message: str) -> None:
        self.query_one("#convert-error", Static).update(Text(message))
        self.notify(message, severity="error", markup=False)

    @work(thread=True, exclusive=True, group="convert")
    def _convert(self, name: str | None, amount, source_id: int | None) -> None:
        try:
            with database.connection_context():
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
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self.dismiss, result)
