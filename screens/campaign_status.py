"""Moving a campaign through its statuses; starting one previews and runs bulk enrollment."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Footer, ProgressBar

from data.audience import describe_filters
from data.campaigns import IN_PROGRESS, change_status, find_campaign
from data.db import database
from data.enrollment import EnrollmentResult, preview
from data.models import CAMPAIGN_STATUSES, ValidationError
from screens.modals import ChoiceScreen, ConfirmScreen, MessageScreen


class CampaignStatusActions:
    """Mixed into a Screen (above its Footer): the status-change flow.

    Choose a status → (for In Progress) a confirmation with the enrollment preview → enrollment
    in a worker with a progress indicator → the result. Other statuses change at once."""

    def ask_status_change(self, campaign_id: int, name: str, current: str) -> None:
        choices = [(s, s) for s in CAMPAIGN_STATUSES if s != current]
        if current == IN_PROGRESS:
            choices.insert(0, (IN_PROGRESS, "In Progress again (enroll newcomers)"))

        def chosen(status: str | None) -> None:
            if status == IN_PROGRESS:
                self._preview_start(campaign_id)
            elif status:
                self._set_status(campaign_id, status)

        self.app.push_screen(
            ChoiceScreen(
                f"Change the status of {name}",
                choices,
                note=Text(f"Now {current}. In Progress enrolls everyone matching the audience."),
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, group="campaign-status")
    def _preview_start(self, campaign_id: int) -> None:
        with database.connection_context():
            campaign = find_campaign(campaign_id)
            outcome = preview(campaign)
            audience = describe_filters(campaign.audience_kind, campaign.filters)
        body = Text.assemble(
            ("Audience: ", "bold"),
            audience,
            "\n\n",
            outcome.summary(preview=True).capitalize(),
            ".\n\nPeople flagged do-not-email or bounced are never enrolled.",
        )
        self.app.call_from_thread(
            self.app.push_screen,
            ConfirmScreen(f"Start {campaign.name}?", body, confirm="Start"),
            lambda yes: self._start(campaign_id, outcome.enrolled) if yes else None,
        )

    def _start(self, campaign_id: int, expected: int) -> None:
        if expected >= 1_000:  # a large audience takes a moment: show that it is working
            busy = ProgressBar(total=None, show_eta=False, id="busy")
            self.mount(busy, before=self.query_one(Footer))
        self._run_start(campaign_id)

    @work(thread=True, exclusive=True, group="campaign-status")
    def _run_start(self, campaign_id: int) -> None:
        try:
            with database.connection_context():
                campaign = find_campaign(campaign_id)
                result = change_status(campaign, IN_PROGRESS, now=self.app.now())
        except ValidationError as exc:
            self.app.call_from_thread(self._started, campaign_id, None, str(exc))
            return
        self.app.call_from_thread(self._started, campaign.name, result, None)

    def _started(self, name, result: EnrollmentResult | None, error: str | None) -> None:
        for busy in self.query("#busy"):
            busy.remove()
        if error:
            self.notify(error, severity="error")
            return
        self.app.notify_changed()
        self.app.push_screen(
            MessageScreen(f"{name} is In Progress", result.summary().capitalize() + ".")
        )

    @work(thread=True, exclusive=True, group="campaign-status")
    def _set_status(self, campaign_id: int, status: str) -> None:
        try:
            with database.connection_context():
                campaign = find_campaign(campaign_id)
                change_status(campaign, status, now=self.app.now())
        except ValidationError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.app.notify_changed)
        self.app.call_from_thread(self.notify, f"{campaign.name} is now {status}.")
