"""`campaigns import leads|contacts FILE`: people from CSV, all or nothing unless told."""

from __future__ import annotations

import json
import sys

from data.text import counted, visible
from data.vocab import AudienceKind
from tui_app.cli.common import (
    UserError,
    emit,
    open_db,
    open_input,
    progress_bar,
    writing_stdout,
)

KINDS = {
    kind.value: kind.value.removesuffix("s")
    for kind in AudienceKind
    if kind is not AudienceKind.BOTH
}
"""The command's word for each kind of person, and the import's: "leads" -> "lead"."""


def register(sub, common) -> None:
    p = sub.add_parser("import", parents=[common], help="import leads or contacts from CSV")
    p.add_argument("kind", choices=tuple(KINDS))
    p.add_argument("file", help="CSV file, or - for standard input")
    p.add_argument(
        "--skip-invalid", action="store_true", help="write the valid rows and report the others"
    )
    p.set_defaults(handler=cmd_import)


def cmd_import(args) -> None:
    from data.transfer import import_people

    open_db(args)
    with open_input(args.file) as stream:
        with progress_bar(args, f"importing {args.kind}") as on_progress:
            report = import_people(
                KINDS[args.kind],
                stream,
                skip_invalid=args.skip_invalid,
                on_progress=on_progress,
            )
    lines = [f"line {line}: {visible(reason)}" for line, reason in report.invalid]
    if report.written:
        text = f"{args.kind}: created {report.created:,}, updated {report.updated:,}"
        if report.invalid:
            text += f", skipped {counted(len(report.invalid), 'invalid row')}"
        emit(args, report.as_dict(), "\n".join([*lines, text]))
        return
    if getattr(args, "json", False):
        with writing_stdout() as out:
            print(json.dumps(report.as_dict()), file=out)
    else:
        print("\n".join(lines), file=sys.stderr)
    raise UserError(
        f"{counted(len(report.invalid), 'invalid row')}; nothing was imported "
        "(fix them, or use --skip-invalid to import the valid rows)"
    )
