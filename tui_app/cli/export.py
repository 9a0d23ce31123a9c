"""`campaigns export members CAMPAIGN`: a campaign's members as CSV."""

from __future__ import annotations

import sys

from data.text import counted, visible
from data.vocab import MemberView, values
from tui_app.cli.common import UserError, open_db, progress_bar, writing_stdout


def register(sub, common) -> None:
    export = sub.add_parser("export", help="export members as CSV")
    esub = export.add_subparsers(dest="what", metavar="WHAT", required=True)
    p = esub.add_parser("members", parents=[common], help="a campaign's members, CSV to stdout")
    p.add_argument("campaign")
    p.add_argument("--view", choices=values(MemberView), default=MemberView.ALL.value)
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(handler=cmd_export_members)


def cmd_export_members(args) -> None:
    from data.campaigns import find_campaign
    from data.files import FileRefused
    from data.transfer import export_members, write_members_csv

    open_db(args)
    campaign = find_campaign(args.campaign)
    if args.output:
        try:
            with progress_bar(args, "exporting") as on_progress:
                count = write_members_csv(
                    campaign, args.view, "", args.output, on_progress=on_progress
                )
        except FileRefused as refused:  # a link, a pipe, a folder: one sentence naming it
            raise UserError(refused.strerror) from None
        except OSError as exc:
            raise UserError(f"cannot write {visible(args.output)}: {exc.strerror}") from None
        print(f"wrote {counted(count, 'member')} to {visible(args.output)}", file=sys.stderr)
    elif sys.stdout is not None and sys.stdout.isatty():
        with writing_stdout() as out:  # the rows on the screen are the progress
            export_members(campaign, args.view, out)
    else:
        with writing_stdout() as out, progress_bar(args, "exporting") as on_progress:
            export_members(campaign, args.view, out, on_progress=on_progress)
