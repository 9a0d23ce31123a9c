"""The Campaign Members app: screens, navigation, live refresh."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from data.db import open_database
from data.models import utcnow
from data.settings import save_folder
from data.text import visible
from tui_app.live import POLL_SECONDS, ChangeWatcher
from tui_app.widgets.messages import DataChanged


class CommittedElsewhere(Message):
    """The change watcher saw another connection commit (posted from its thread)."""


class LiveUpdates(Message):
    """Live updates paused (`reason` says why) or, with no reason, resumed (posted from the
    change watcher's thread)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__()
        self.reason = reason


def find_provider():
    """The palette's campaign and people finder, imported when the palette first opens."""
    from tui_app.palette import FindProvider

    return FindProvider


LIVE_PAUSED_SECONDS = 60.0
"""How long the notice that live updates paused stays on screen (it is said once per pause)."""


class CampaignsApp(App):
    """A keyboard-driven CRM for campaigns and the leads and contacts they reach."""

    TITLE = "Campaign Members"
    CSS_PATH = "app.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    """Below 30 rows (80x24) dialogs drop their spacing, so their buttons stay on screen."""
    COMMANDS = App.COMMANDS | {find_provider}
    BINDINGS = [
        # f1 first in every footer, however narrow (a priority binding leads the footer)
        Binding("f1", "help", "Help", id="help", priority=True),
        Binding("question_mark", "help", "Help", show=False),
        # shown once, docked at the footer's right (Textual draws the palette's key there)
        Binding("ctrl+p", "command_palette", "Find", id="palette", show=False),
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        *,
        now: datetime | None = None,
        export_dir: Path | None = None,
        watch_interval: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.fixed_now = now
        self.export_dir = export_dir
        """The folder proposed for a saved file when the user has not saved one yet (fixed in
        tests); None: the user's documents folder."""
        self.watcher = ChangeWatcher(
            self._changed,
            interval=watch_interval,
            on_paused=lambda reason: self.post_message(LiveUpdates(reason)),
            on_resumed=lambda: self.post_message(LiveUpdates(None)),
        )

    def now(self) -> datetime:
        """The app's clock: fixed in tests and snapshots, the real UTC time otherwise."""
        return self.fixed_now or utcnow()

    def files_folder(self) -> Path:
        """Where a file the user saves or opens is proposed to be, one rule for every screen."""
        return save_folder(self.export_dir)

    def get_default_screen(self) -> Screen:
        """The campaign list is the home screen: the bottom of the stack, never popped."""
        from screens.campaign_list import CampaignListScreen

        return CampaignListScreen()

    def on_mount(self) -> None:
        # watching for other writers can wait until the first screen is up
        self.set_timer(self.watcher.interval, self.watcher.start)

    def on_unmount(self) -> None:
        self.watcher.stop()

    def _changed(self) -> None:
        """Called on the watcher's thread when another connection committed."""
        self.post_message(CommittedElsewhere())

    def on_committed_elsewhere(self, _message: CommittedElsewhere) -> None:
        self.notify_changed()

    def on_live_updates(self, message: LiveUpdates) -> None:
        if message.reason is not None:  # said once per pause; it stays until read or resumed
            self.notify(
                f"live updates paused: {message.reason}. What shows may be out of date; "
                "reconnecting…",
                title="Live updates",
                severity="warning",
                timeout=LIVE_PAUSED_SECONDS,
            )
        else:
            self.notify("live updates resumed", title="Live updates")

    # every notification and title passes here: names in them are shown as typed
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification whose text is shown literally: never markup, no control character."""
        super().notify(
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    def format_title(self, title: str, sub_title: str) -> Content:
        return super().format_title(visible(title), visible(sub_title))

    def run_to_exit_status(self, **options) -> int:
        """Run the app; the process's exit status: 0 after a quit, non-zero if the app crashed."""
        self.run(**options)
        return self.return_code or 0

    def notify_changed(self) -> None:
        """This app wrote something: refresh the current screen now (the watcher also will)."""
        if self.screen_stack:  # none while the app closes
            self.screen.post_message(DataChanged())

    # navigation, shared by every screen and the command palette
    def open_campaign(self, campaign_id: int) -> None:
        from screens.campaign_detail import CampaignDetailScreen

        self.push_screen(CampaignDetailScreen(campaign_id))

    def open_person(self, kind: str, person_id: int) -> None:
        from screens.person_detail import PersonDetailScreen

        self.push_screen(PersonDetailScreen(kind, person_id))

    def open_member_events(self, member_id: int) -> None:
        from screens.event_history import MemberEventsScreen

        self.push_screen(MemberEventsScreen(member_id))

    def action_people(self) -> None:
        from screens.people import PeopleScreen

        self.push_screen(PeopleScreen())

    def action_hot_list(self) -> None:
        from screens.hot_list import HotListScreen

        self.push_screen(HotListScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's actions: the hot list beside Textual's own."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Hot list", "People ranked by engagement score: who to call today", self.action_hot_list
        )

    def action_rejected(self) -> None:
        from screens.event_history import RejectedEventsScreen

        self.push_screen(RejectedEventsScreen())

    def action_connectors(self) -> None:
        from screens.connectors import ConnectorsScreen

        self.push_screen(ConnectorsScreen())

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):  # f1 again closes it
            self.pop_screen()
        else:
            self.push_screen(HelpScreen())


APP_CACHE_KIB = 16_000
"""The app's page cache per connection (a worker thread has its own): its reads are pages of a
list, and a smaller cache keeps it under 200 MB after enrolling 170,000 people (PRODUCT.md §4)."""


def make_app(
    location: str | None = None,
    *,
    now: datetime | None = None,
    export_dir: Path | None = None,
    watch_interval: float = POLL_SECONDS,
    on_open: Callable[[], None] | None = None,
) -> CampaignsApp:
    """Open (and migrate) the database, then build the app; the CLI and the tests both use this.
    `on_open` runs once the database is open, before the app is built (the demo's first fill).

    A write that has to wait long for another program's writer says so in a notification."""
    app: CampaignsApp | None = None

    def waiting(message: str) -> None:
        if app is not None and app.is_running:
            app.notify(message, title="Waiting", severity="warning")  # thread-safe

    open_database(location, on_wait=waiting, cache_kib=APP_CACHE_KIB)
    if on_open is not None:
        on_open()
    app = CampaignsApp(now=now, export_dir=export_dir, watch_interval=watch_interval)
    return app
