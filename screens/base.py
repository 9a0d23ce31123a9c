"""The base of every screen: what a worker reports becomes a notification, never the app's exit.

A worker posts `Notice` when it is done, or raises. Errors a user can cause (a refused status
change, a name already taken) are shown as they are; a record deleted by another connection
meanwhile sends the screen that shows it back, with a message; anything else is a bug, reported
in one line and logged, and the app keeps running."""

from __future__ import annotations

from typing import Generic, TypeVar

import peewee
from peewee import DoesNotExist
from textual import on
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from data.db import describe
from data.engagement import StatusChangeRefused
from data.models import ValidationError
from tui_app.widgets.messages import DataChanged, Notice, WorkFailed
from tui_app.widgets.refresh import CoalescedReread

USER_ERRORS = (ValidationError, StatusChangeRefused)
"""Errors that explain themselves: their text is the notification."""

RECORD_NAMES = {"CampaignMember": "member", "Lead": "person", "Contact": "person"}

ResultType = TypeVar("ResultType")


def record_name(error: DoesNotExist) -> str:
    model = type(error).__name__.removesuffix("DoesNotExist")
    return RECORD_NAMES.get(model, model.lower())


class AppScreen(Screen[ResultType], Generic[ResultType]):
    """A screen of the app; `subject` is the model of the record it shows, if any."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rereads = CoalescedReread(self, self.reread)
        """This screen's re-reads after commits, one in flight at a time."""

    def subject(self) -> type | None:
        """The model whose record, deleted meanwhile, makes this screen pointless."""
        return None

    def reread(self) -> None:
        """Something committed: read again what the screen shows (its read workers)."""

    def on_data_changed(self, message: DataChanged) -> None:
        message.stop()
        self.rereads.changed()

    def on_unmount(self) -> None:
        self.rereads.stop()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.work_failed(event.worker.error)

    @on(WorkFailed)
    def _widget_work_failed(self, event: WorkFailed) -> None:
        event.stop()
        self.work_failed(event.error)

    @on(Notice)
    def _notice(self, event: Notice) -> None:
        event.stop()
        if event.changed:
            self.app.notify_changed()
        self.notify(event.text, severity=event.severity)

    def work_failed(self, error: BaseException) -> None:
        if isinstance(error, DoesNotExist):
            subject = self.subject()
            if subject is not None and isinstance(error, subject.DoesNotExist):
                self.leave(f"This {record_name(error)} no longer exists.")
            else:
                self.notify(f"That {record_name(error)} no longer exists.", severity="warning")
                self.post_message(DataChanged())
        elif isinstance(error, USER_ERRORS):
            self.notify(str(error), severity="error")
        elif isinstance(error, peewee.DatabaseError):
            # Locked, full, damaged, or a read-only connection: the driver's reason in one line.
            self.notify(f"The database could not do that: {describe(error)}", severity="error")
        else:
            self.log.error(error)
            self.notify(
                f"Something went wrong ({type(error).__name__}: {error}); nothing was lost, "
                "try again.",
                severity="error",
            )

    def leave(self, message: str) -> None:
        """Close this screen (and any dialog over it), saying why."""
        self.notify(message, severity="warning")
        if self not in self.app.screen_stack or len(self.app.screen_stack) < 2:
            return
        while self.app.screen is not self:
            self.app.pop_screen()
        self.dismiss()


class AppModal(ModalScreen[ResultType], AppScreen[ResultType], Generic[ResultType]):
    """A dialog of the app, with the same handling of worker results. (ModalScreen comes
    first: Textual takes CSS type names from the first base, and a dialog must look like one.)"""
