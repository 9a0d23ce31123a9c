"""Every key of every screen, read from the screens' own bindings (one source of truth)."""

from __future__ import annotations

from importlib import import_module

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

SECTIONS = (
    ("Everywhere", "tui_app.app:CampaignsApp"),
    ("Campaign list (home)", "screens.campaign_list:CampaignListScreen"),
    ("Campaign form", "screens.campaign_form:CampaignFormScreen"),
    ("Campaign detail", "screens.campaign_detail:CampaignDetailScreen"),
    ("Member table", "tui_app.widgets.member_table:MemberTable"),
    ("People", "screens.people:PeopleScreen"),
    ("Lead / contact detail", "screens.person_detail:PersonDetailScreen"),
    ("Add Members picker", "screens.add_members:AddMembersScreen"),
    ("Member event history", "screens.event_history:MemberEventsScreen"),
    ("Rejected events", "screens.event_history:RejectedEventsScreen"),
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


def bindings_of(target: str) -> list[tuple[str, str]]:
    module, _, name = target.partition(":")
    owner = getattr(import_module(module), name)
    seen: dict[str, str] = {}
    for binding in owner.BINDINGS:
        if isinstance(binding, Binding) and binding.description:
            seen.setdefault(binding.description, key_label(binding.key))
    return [(keys, description) for description, keys in seen.items()]


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", min_width=14, justify="right")
    table.add_column()
    for title, target in SECTIONS:
        table.add_row(Text(title, style="bold underline"), "")
        for keys, description in bindings_of(target):
            table.add_row(keys, description)
        table.add_row("", "")
    table.add_row(
        "",
        Text(
            "In lists: ↑ ↓ PgUp PgDn Home End move, enter opens. In dialogs: tab moves "
            "between fields and buttons."
        ),
    )
    return table


class HelpScreen(Screen):
    """The keys of every screen."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "app.pop_screen", "Close help")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(help_table(), id="help")
        yield Footer()
