"""Moving a campaign through its statuses; starting one previews and runs bulk enrollment."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Footer, ProgressBar

from data.audience import describe_filters
from data.campaigns import IN_PROGRESS, change_status
from data.enrollment import EnrollmentResult, preview
from data.models import CAMPAIGN_STATUSES, Campaign, ValidationError
from screens.modals import ChoiceScreen, ConfirmScreen, MessageScreen
from tui_app.widgets.formatting import assemble
from tui_app.widgets.messages import Notice
from tui_app.widgets.work import reads, writes


class StartPreviewed(Message):
    """What starting a campaign would enroll and leave out, to confirm."""

    def __init__(self, campaign_id: int, name: str, body: Text, expected: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.name = name
        self.body = body
        self.expected = expected


class StartFinished(Message):
    """A start ran (or was refused, with `error`)."""

    def __init__(self, name: str, result: EnrollmentResult | None, error: str = "") -> None:
        super().__init__()
        self.name = name
        self.result = result
        self.error = error


class CampaignStatusActions:
    """Mixed into an AppScreen (above its Footer): the status-change flow.

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
                assemble("Change the status of ", (name, "")),
                choices,
                note=Text(f"Now {current}. In Progress enrolls everyone matching the audience."),
            ),
            chosen,
        )

    @reads("campaign-status")
    def _preview_start(self, campaign_id: int) -> None:
        campaign = Campaign.get_by_id(campaign_id)
        outcome = preview(campaign)
        body = assemble(
            ("Audience: ", "bold"),
            (describe_filters(campaign.audience_kind, campaign.filters), ""),
            "\n\n",
            outcome.summary(preview=True).capitalize(),
            ".\n\nPeople flagged do-not-email or bounced are never enrolled.",
        )
        self.post_message(StartPreviewed(campaign_id, campaign.name, body, outcome.enrolled))

    def on_start_previewed(self, message: StartPreviewed) -> None:
        campaign_id, expected = message.campaign_id, message.expected
        self.app.push_screen(
            ConfirmScreen(
                assemble("Start ", (message.name, ""), "?"), message.body, confirm="Start"
            ),
            lambda yes: self._start(campaign_id, expected) if yes else None,
        )

    def _start(self, campaign_id: int, expected: int) -> None:
        if expected >= 1_000:  # a large audience takes a moment: show that it is working
            busy = ProgressBar(total=None, show_eta=False, id="busy")
            self.mount(busy, before=self.query_one(Footer))
        self._run_start(campaign_id)

    @writes("campaign-start")
    def _run_start(self, campaign_id: int) -> None:
        campaign = Campaign.get_or_none(Campaign.id == campaign_id)
        if campaign is None:
            self.post_message(StartFinished("", None, "That campaign no longer exists."))
            return
        try:
            result = change_status(campaign, IN_PROGRESS, now=self.app.now())
        except ValidationError as exc:
            self.post_message(StartFinished(campaign.name, None, str(exc)))
            return
        self.post_message(StartFinished(campaign.name, result))

    def on_start_finished(self, message: StartFinished) -> None:
        for busy in self.query("#busy"):
            busy.remove()
        if message.error or message.result is None:
            self.notify(message.error, severity="error")
            return
        self.app.notify_changed()
        self.app.push_screen(
            MessageScreen(
                assemble((message.name, ""), " is In Progress"),
                message.result.summary().capitalize() + ".",
            )
        )

    @writes("campaign-status")
    def _set_status(self, campaign_id: int, status: str) -> None:
        campaign = Campaign.get_by_id(campaign_id)
        change_status(campaign, status, now=self.app.now())
        self.post_message(Notice(f"{campaign.name} is now {status}.", changed=True))
