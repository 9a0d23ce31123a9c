"""What a filter box could not read, shown under it as the user types (hidden when all is read)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from data.filters import parse_filter
from data.labels import label_names
from data.text import visible

FILTER_HINT = "Filter: acme country:DE,AT title:vp status:opened -status:clicked  ( / )"
"""The placeholder of every filter box: a bare word and a few field terms (f1 lists them all)."""


class FilterProblems(Static):
    """One line per term the filter box beside it cannot read; nothing when every term reads."""

    DEFAULT_CSS = """
    FilterProblems { height: auto; color: $error; padding: 0 1; display: none; }
    """

    labels: list[str] | None = None
    """The status labels a `status:` term may name (a campaign's); None: every campaign's."""

    def explain(self, text: str) -> bool:
        """Show what the text cannot read; whether it all reads (a list filters by it only
        then: a term still being typed, such as `status:o`, keeps the rows of the text before
        instead of asking the database for a list the next key replaces)."""
        labels = self.labels
        if labels is None and "status:" in text.lower():
            labels = label_names()
        problems = parse_filter(text, labels or ()).problems
        self.display = bool(problems)
        self.update(Text("\n".join(visible(p) for p in problems)))
        return not problems
