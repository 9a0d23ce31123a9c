"""How a long piece of work tells its caller how far it has got, without knowing who listens
(the command line draws a bar; tests count)."""

from __future__ import annotations

from collections.abc import Callable

OnProgress = Callable[[int, int], None]
"""Called as `on_progress(done, total)` while the work goes on, `done` growing up to `total`
(in the work's own units: rows, bytes, steps)."""
