"""The import wizard: raise members to the statuses an `email,status` CSV names, after a
preview of exactly what it will do (the same import, rolled back)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from data.db import refuse_database_file
from data.files import FileRefused, open_regular_text, typed_path
from data.models import Campaign, ValidationError
from data.status_import import StatusImportReport, import_statuses, read_status_rows
from screens.base import AppModal
from tui_app.widgets.formatting import assemble, literal
from tui_app.widgets.work import reads, writes

SHOWN_REJECTIONS = 5
"""Rejected rows listed in the preview (the rest are counted)."""


def describe(report: StatusImportReport) -> Text:
    """A report as the preview (or the outcome) shows it: counts, then the first rejections."""
    verb = "Will raise" if report.dry_run else "Raised"
    text = assemble(
        (f"{verb} {report.applied:,}", "bold green"),
        f" · unchanged {report.unchanged:,} (already at or past it) · ",
        (f"rejected {report.rejected:,}", "bold red" if report.rejected else ""),
    )
    if report.raised_to:
        text.append("\n")
        text.append(
            assemble(
                ("To: ", "dim"),
                ", ".join(f"{label} {n:,}" for label, n in report.raised_to.items()),
            )
        )
    for line, reason in report.rejections[:SHOWN_REJECTIONS]:
        text.append("\n")
        text.append(assemble((f"line {line}: ", "dim"), reason))
    more = report.rejected - SHOWN_REJECTIONS
    if more > 0:
        text.append(f"\n… and {more:,} more rejected")
    return text


class StatusImportScreen(AppModal[StatusImportReport | None]):
    """Choose a file, see the preview, apply (ctrl+s) or cancel (escape)."""

    class Previewed(Message):
        def __init__(self, path: str, rows: list, report: StatusImportReport) -> None:
            super().__init__()
            self.path = path
            self.rows = rows
            self.report = report

    class Problem(Message):
        """The file could not be read; the reason shows under the field."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Applied(Message):
        def __init__(self, report: StatusImportReport) -> None:
            super().__init__()
            self.report = report

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "apply", "Apply")]

    DEFAULT_CSS = """
    StatusImportScreen .field { height: 3; }
    StatusImportScreen .field Label { width: 6; padding: 1 1 0 0; color: $text-muted; }
    StatusImportScreen .field Input { width: 1fr; }
    StatusImportScreen #import-preview { height: auto; margin: 1 0; }
    """

    def __init__(self, campaign_id: int, campaign_name: str) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.campaign_name = campaign_name
        self.previewed: tuple[str, list] | None = None
        self.applying = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                assemble(("Import statuses into ", "bold"), (self.campaign_name, "bold")),
                classes="dialog-title",
            )
            yield Static(
                "A CSV with the columns email,status. Each member is raised to the status "
                "named, never lowered. Enter shows what it will do; nothing changes until you "
                "apply.",
                classes="dialog-body",
            )
            with Horizontal(classes="field"):
                yield Label("File")
                yield Input(placeholder="attendance.csv", id="import-path")
            yield Static(id="import-preview")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply (ctrl+s)", variant="primary", id="apply", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def _path(self) -> str:
        """The file typed (`~` is a home folder, a bare name is in the files folder); a
        ValueError with one line when it names no file we can look for."""
        typed = self.query_one("#import-path", Input).value.strip()
        return str(typed_path(typed, self.app.files_folder()))

    @on(Input.Changed, "#import-path")
    def _typed(self) -> None:
        self.previewed = None
        self.query_one("#apply", Button).disabled = True
        self.query_one("#import-preview", Static).update("")

    @on(Input.Submitted, "#import-path")
    def _submitted(self) -> None:
        typed = self.query_one("#import-path", Input).value.strip()
        if not typed:
            return
        try:
            path = self._path()
        except ValueError as exc:
            self.post_message(self.Problem(f"Cannot read {typed}: {exc}"))
            return
        self.query_one("#import-preview", Static).update(Text("Reading…", style="dim"))
        self._preview(path)

    @reads("status-import-preview")
    def _preview(self, path: str) -> None:
        try:
            refuse_database_file(path)
            with open_regular_text(path) as stream:  # a pipe is refused, not waited on
                rows = read_status_rows(stream)
        except FileRefused as refused:
            self.post_message(self.Problem(refused.strerror))
            return
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.post_message(self.Problem(f"Cannot read {path}: {reason}"))
            return
        campaign = Campaign.get_by_id(self.campaign_id)
        self.post_message(self.Previewed(path, rows, import_statuses(campaign, rows, dry_run=True)))

    @on(Problem)
    def _problem(self, message: Problem) -> None:
        self.query_one("#import-preview", Static).update(literal(message.reason, style="red"))

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        try:
            if message.path != self._path():
                return  # the user typed on meanwhile
        except ValueError:
            return
        self.previewed = (message.path, message.rows)
        self.query_one("#import-preview", Static).update(describe(message.report))
        apply = self.query_one("#apply", Button)
        apply.disabled = not message.report.applied
        if message.report.applied:
            apply.focus()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.previewed is None or self.query_one("#apply", Button).disabled:
            return
        if not self.applying:
            self.applying = True
            self._apply(self.previewed[1])

    @writes("status-import")
    def _apply(self, rows: list) -> None:
        campaign = Campaign.get_by_id(self.campaign_id)
        self.post_message(self.Applied(import_statuses(campaign, rows)))

    def work_failed(self, error: BaseException) -> None:
        self.applying = False
        super().work_failed(error)

    @on(Applied)
    def _applied(self, message: Applied) -> None:
        self.dismiss(message.report)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
