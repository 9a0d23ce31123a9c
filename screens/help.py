"""Every key of every screen, read from the screens' own bindings (one source of truth)."""

from __future__ import annotations

from importlib import import_module

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Header, Static

from screens.base import AppScreen
from tui_app.widgets.footer import AppFooter

SECTIONS = (
    ("Campaign list (home)", "screens.campaign_list:CampaignListScreen"),
    ("Campaign form", "screens.campaign_form:CampaignFormScreen"),
    ("Campaign detail", "screens.campaign_detail:CampaignDetailScreen"),
    ("Member table", "tui_app.widgets.member_table:MemberTable"),
    ("Member statuses of a campaign", "screens.status_labels:StatusLabelsScreen"),
    ("Status import", "screens.status_import:StatusImportScreen"),
    ("People", "screens.people:PeopleScreen"),
    ("Lead / contact detail", "screens.person_detail:PersonDetailScreen"),
    ("Add Members picker", "screens.add_members:AddMembersScreen"),
    ("Member event history", "screens.event_history:MemberEventsScreen"),
    ("Rejected events", "screens.event_history:RejectedEventsScreen"),
    ("Journal of bulk changes", "screens.journal:JournalScreen"),
    ("Connectors", "screens.connectors:ConnectorsScreen"),
    ("Dialogs", "screens.modals:ConfirmScreen"),
)
"""The help screen's sections, in the order a user meets the screens."""

KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "escape": "esc",
    "delete": "del",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "asterisk": "*",
    "space": "space",
}


def key_label(keys: str) -> str:
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def bindings_of(owner) -> list[tuple[str, str]]:
    """(keys, description) of the bindings of a class given as an object or as "module:Name"."""
    if isinstance(owner, str):
        module, _, name = owner.partition(":")
        owner = getattr(import_module(module), name)
    seen: dict[str, str] = {}
    for binding in owner.BINDINGS:
        if isinstance(binding, Binding) and binding.description:
            keys = key_label(binding.key)
            earlier = seen.get(binding.description)
            seen[binding.description] = f"{earlier} {keys}" if earlier else keys
    return [(keys, description) for description, keys in seen.items()]


def section_table(title: str, target) -> Table:
    table = Table(title=title, title_style="bold", title_justify="left", box=None, padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for keys, description in bindings_of(target):
        table.add_row(keys, description)
    return table


class HelpScreen(AppScreen):
    """The keys of every screen."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "app.pop_screen", "Close help")]

    DEFAULT_CSS = """
    HelpScreen #help-grid {
        grid-size: 3;
        grid-gutter: 1 2;
        height: auto;
        padding: 0 1;
    }
    HelpScreen #help-grid Static { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            with Grid(id="help-grid"):
                # the app's own keys come from the running app: screens never import the app
                for title, target in (("Everywhere", type(self.app)), *SECTIONS):
                    yield Static(section_table(title, target))
            yield Static(
                Text(
                    "In lists: ↑ ↓ PgUp PgDn Home End move, enter opens, ctrl+o sorts by the "
                    "next column (the header's arrow says which way). In a campaign's member "
                    "list: space marks a row, ctrl+t every row matching the view and filter; s, "
                    "d and x then act on the marked rows. In dialogs: tab moves between fields "
                    "and buttons. Everything is reachable by keyboard.",
                    style="dim",
                ),
                classes="hint",
            )
        yield AppFooter()
