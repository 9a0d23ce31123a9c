"""Create or edit a campaign, its audience criteria with a live count of the people who match."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Header, Input, Label, Select, Static

from data.audience import count_matching, unmatched_criteria
from data.campaigns import create_campaign, update_campaign
from data.filters import FILTER_FIELDS, LEAD_ONLY_FILTERS, validate_filters
from data.models import AUDIENCE_KINDS, CAMPAIGN_TYPES, Campaign, ValidationError
from data.text import counted, visible
from screens.base import AppScreen
from screens.modals import ConfirmScreen
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import assemble
from tui_app.widgets.work import deliver, reads, writes

FILTER_LABELS = {
    "country": "Country in",
    "industry": "Industry in",
    "lead_source": "Lead source in",
    "lead_status": "Lead status in",
    "title_contains": "Title contains",
    "created_since": "Created on or after",
}
"""The audience filters as the form labels them, in the order it shows them."""


class FormError(ValueError):
    """A field the user typed cannot be read; the message names the field."""


def _date(label: str, raw: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FormError(f"{label}: type a date like 2026-03-31, not {raw.strip()!r}") from None


def _money(label: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip().replace(",", "") or "0")
    except InvalidOperation:
        raise FormError(f"{label}: type an amount like 1500 or 1500.50") from None
    if value < 0 or not value.is_finite():
        raise FormError(f"{label}: the amount cannot be negative")
    return value


class CampaignFormScreen(AppScreen):
    """The campaign's facts and audience; ctrl+s saves, escape leaves without saving.

    Stored text is edited as it shows: control characters as visible symbols. A field left as
    it showed keeps its stored value, so opening and saving a form changes nothing."""

    class Loaded(Message):
        def __init__(self, campaign: Campaign) -> None:
            super().__init__()
            self.campaign = campaign

    class Counted(Message):
        def __init__(self, total: int, unmatched: list[str]) -> None:
            super().__init__()
            self.total = total
            self.unmatched = unmatched

    class Saved(Message):
        def __init__(self, campaign: Campaign) -> None:
            super().__init__()
            self.campaign = campaign

    DEFAULT_CSS = """
    CampaignFormScreen #form-grid {
        grid-size: 4;
        grid-columns: 20 1fr 20 1fr;
        grid-rows: 3;
        grid-gutter: 0 1;
        height: auto;
        padding: 0 1;
    }
    CampaignFormScreen #form-grid Label {
        padding: 1 0 0 1;
        width: 100%;
    }
    CampaignFormScreen #form-grid Select {
        width: 100%;
    }
    CampaignFormScreen #form-foot {
        height: auto;
        padding: 1 2;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, campaign_id: int | None) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.stored: dict[str, str] = {}
        """Each field's stored value, by the text it showed as."""
        self.pristine: tuple | None = None
        """The fields as the form first showed them (filled in, for an edit): escape leaves
        without asking while they are so."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="form-title", classes="screen-title")
        with VerticalScroll(id="form"):
            with Grid(id="form-grid"):
                yield Label("Name")
                yield Input(id="name", placeholder="Unique campaign name")
                yield Label("Type")
                yield Select(
                    [(t, t) for t in CAMPAIGN_TYPES], value="Email", id="type", allow_blank=False
                )
                yield Label("Start date")
                yield Input(id="start_date", placeholder="YYYY-MM-DD")
                yield Label("End date")
                yield Input(id="end_date", placeholder="YYYY-MM-DD")
                yield Label("Budgeted cost")
                yield Input(id="budgeted_cost", placeholder="0")
                yield Label("Actual cost")
                yield Input(id="actual_cost", placeholder="0")
                yield Label("Description")
                yield Input(id="description")
                yield Label(Text("Audience", style="bold"))
                yield Select(
                    [(kind.title(), kind) for kind in AUDIENCE_KINDS],
                    value="both",
                    id="kind",
                    allow_blank=False,
                )
                for key, label in FILTER_LABELS.items():
                    yield Label(label)
                    hint = "comma-separated" if FILTER_FIELDS[key] == "list" else ""
                    if FILTER_FIELDS[key] == "date":
                        hint = "YYYY-MM-DD"
                    yield Input(id=f"f-{key}", placeholder=hint)
            with Vertical(id="form-foot"):
                yield Static(id="match-count")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Save (ctrl+s)", variant="primary", id="save")
                    yield Button("Cancel (esc)", id="cancel")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#form-title", Static).update(
            Text("New campaign" if self.campaign_id is None else "Edit campaign", style="bold")
        )
        self.query_one("#name").focus()
        if self.campaign_id is not None:
            self.load()
        else:
            self.pristine = self._shown()
            self.recount()

    def subject(self) -> type:
        return Campaign

    @reads("campaign-form")
    def load(self) -> None:
        deliver(self, self.Loaded(Campaign.get_by_id(self.campaign_id)))

    @on(Loaded)
    def _fill(self, message: Loaded) -> None:
        campaign = message.campaign
        self.query_one("#form-title", Static).update(
            assemble(("Edit campaign ", "bold"), (campaign.name, "bold"))
        )
        values = {
            "name": campaign.name,
            "start_date": campaign.start_date.isoformat() if campaign.start_date else "",
            "end_date": campaign.end_date.isoformat() if campaign.end_date else "",
            "budgeted_cost": f"{campaign.budgeted_cost or 0}",
            "actual_cost": f"{campaign.actual_cost or 0}",
            "description": campaign.description or "",
        }
        for key, value in campaign.filters.items():
            values[f"f-{key}"] = ", ".join(value) if isinstance(value, list) else str(value)
        for key, value in values.items():
            self.stored[key] = value
            self.query_one(f"#{key}", Input).value = visible(value)
        self.query_one("#type", Select).value = campaign.type
        self.query_one("#kind", Select).value = campaign.audience_kind
        self.pristine = self._shown()
        self.recount()

    def _shown(self) -> tuple:
        """Every field as it shows now."""
        return tuple(str(field.value) for field in self.query("Input, Select").results())

    def _audience(self) -> tuple[str, dict]:
        kind = str(self.query_one("#kind", Select).value)
        filters: dict = {}
        for key, label in FILTER_LABELS.items():
            raw = self._text(f"f-{key}").strip()
            if not raw:
                continue
            if kind == "contacts" and key in LEAD_ONLY_FILTERS:
                continue
            if FILTER_FIELDS[key] == "list":
                filters[key] = [v.strip() for v in raw.split(",") if v.strip()]
            elif FILTER_FIELDS[key] == "date":
                _date(label, raw)
                filters[key] = raw
            else:
                filters[key] = raw
        validate_filters(filters)
        return kind, filters

    def _text(self, key: str) -> str:
        """A field's text; its stored value if it still reads as it was shown."""
        shown = self.query_one(f"#{key}", Input).value
        stored = self.stored.get(key)
        return stored if stored is not None and visible(stored) == shown else shown

    def _fields(self) -> dict:
        text = self._text
        kind, filters = self._audience()
        return {
            "name": text("name").strip(),
            "type": str(self.query_one("#type", Select).value),
            "start_date": _date("Start date", text("start_date")),
            "end_date": _date("End date", text("end_date")),
            "budgeted_cost": _money("Budgeted cost", text("budgeted_cost")),
            "actual_cost": _money("Actual cost", text("actual_cost")),
            "description": text("description"),
            "kind": kind,
            "filters": filters,
        }

    @on(Input.Changed)
    @on(Select.Changed, "#kind")
    def _changed(self, event) -> None:
        if event.control.id == "kind" or (event.control.id or "").startswith("f-"):
            self.recount()

    def recount(self) -> None:
        try:
            kind, filters = self._audience()
        except (FormError, ValidationError) as exc:
            self._show_count(None, str(exc))
            return
        self._count(kind, filters)

    @reads("audience-count")
    def _count(self, kind: str, filters: dict) -> None:
        total = count_matching(kind, filters)
        deliver(self, self.Counted(total, unmatched_criteria(kind, filters) if not total else []))

    @on(Counted)
    def _counted(self, message: Counted) -> None:
        self._show_count(message.total, None, message.unmatched)

    def _show_count(
        self, total: int | None, problem: str | None, unmatched: list[str] | None = None
    ) -> None:
        label = self.query_one("#match-count", Static)
        if problem:
            label.update(assemble((problem, "bold red")))
        else:
            number, _, match = counted(total or 0, "person matches", "people match").partition(" ")
            label.update(
                Text.assemble(
                    (number, "bold"),
                    f" {match} this audience (before do-not-email, bounced and "
                    "existing members are left out)",
                    (
                        f"\nNobody has {'; nobody has '.join(visible(u) for u in unmatched)}"
                        if unmatched
                        else "",
                        "bold red",
                    ),
                )
            )

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        """Leave without saving; what was typed is given up only once the user says so."""
        if self.pristine is None or self._shown() == self.pristine:
            self.app.pop_screen()
            return
        what = "this new campaign" if self.campaign_id is None else "your changes"

        def answered(discard: bool | None) -> None:
            if discard and self.is_current:
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen(
                f"Discard {what}?",
                "What you typed has not been saved.",
                confirm="Discard",
            ),
            answered,
        )

    def action_save(self) -> None:
        try:
            fields = self._fields()
        except (FormError, ValidationError) as exc:
            self.notify(str(exc), severity="error")
            return
        self.save(fields)

    @writes("campaign-save")
    def save(self, fields: dict) -> None:
        if self.campaign_id is None:
            campaign = create_campaign(now=self.app.now(), **fields)
        else:
            campaign = update_campaign(Campaign.get_by_id(self.campaign_id), **fields)
        self.post_message(self.Saved(campaign))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.app.notify_changed()
        self.notify(f"Saved {message.campaign.name}.")
        if self.is_current:
            self.dismiss()
