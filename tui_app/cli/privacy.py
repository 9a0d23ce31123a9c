"""`campaigns person forget|export`, `campaigns people duplicates`: a person's right to be
forgotten and to know what is held, and the records that are likely one person."""

from __future__ import annotations

import json
import sys

from data.text import visible
from tui_app.cli.common import UserError, command_group, emit, open_db, say


def register(sub, common) -> None:
    person = command_group(sub, "person", "one person: show, forget, export")
    p = person.add_parser(
        "forget",
        parents=[common],
        help="erase every personal trace of an address (not undoable; counts are kept)",
    )
    p.add_argument("email")
    p.add_argument("--dry-run", action="store_true", help="only list what would go, with counts")
    p.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    p.set_defaults(handler=cmd_forget)
    p = person.add_parser(
        "export", parents=[common], help="everything held about an address, as one JSON document"
    )
    p.add_argument("email")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (mode 0600), not stdout")
    p.set_defaults(handler=cmd_export)

    people = command_group(sub, "people", "people: the hot list, duplicates, merge")
    p = people.add_parser(
        "duplicates",
        parents=[common],
        help="likely duplicates within leads or within contacts, and why they match",
    )
    p.set_defaults(handler=cmd_duplicates)
    p = people.add_parser(
        "merge",
        parents=[common],
        help="merge OTHER into KEEP (two leads or two contacts, by email); undo puts it back",
    )
    p.add_argument("keep")
    p.add_argument("other")
    p.set_defaults(handler=cmd_merge)


def _listing(counts: dict[str, int]) -> list[str]:
    return [f"  {kind}: {n}" for kind, n in counts.items() if n]


def _confirmed(address: str) -> bool:
    """Asked on the terminal: the address typed again."""
    try:
        answer = input(f"Type the address to forget it for good ({address}): ")
    except EOFError:
        return False
    return answer.strip().lower() == address


def cmd_forget(args) -> None:
    from data import privacy

    open_db(args)
    found = privacy.plan(args.email)
    if not found.found:
        raise UserError(f"nothing is held about {found.email}")
    counts = found.counts()
    if args.dry_run:
        lines = [f"Forgetting {found.email} would:", *_listing(counts)]
        emit(args, {"email": found.email, "dry_run": True, "counts": counts}, "\n".join(lines))
        return
    if not args.yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise UserError("forgetting cannot be undone: add --yes to confirm without a terminal")
        for line in [f"Forgetting {found.email} will:", *_listing(counts)]:
            print(visible(line), file=sys.stderr)
        if not _confirmed(found.email):
            raise UserError("not forgotten: the address typed did not match")
    done = privacy.forget(found.email)
    counts = done.counts()
    lines = [f"Forgot a person: {done.records()} records", *_listing(counts)]
    emit(args, {"dry_run": False, "counts": counts}, "\n".join(lines))


def cmd_export(args) -> None:
    from data import privacy
    from data.files import private_file

    open_db(args)
    held = privacy.holdings(args.email)
    text = json.dumps(held, indent=2, default=str)  # escaped: no raw control character
    if args.output:
        with private_file(args.output) as out:
            out.write(text + "\n")
        say(f"wrote everything held about {held['email']} to {args.output}")
    else:
        sys.stdout.write(text + "\n")


def cmd_duplicates(args) -> None:
    from data.duplicates import duplicates

    open_db(args)
    groups = duplicates()
    lines = []
    for group in groups:
        lines.append(f"{group.kind}s, {'; '.join(group.why)}:")
        lines.extend(f"  {r.email}  {r.name}" for r in group.records)
    lines.append(f"{len(groups)} groups of likely duplicates")
    emit(args, [g.as_dict() for g in groups], "\n".join(lines))


def cmd_merge(args) -> None:
    from data.merge import merge

    open_db(args)
    entry = merge(args.keep, args.other)
    data = {"journal_entry": entry.id, "memberships": entry.count, "summary": entry.summary}
    emit(
        args,
        data,
        f"{entry.summary}: {entry.count} memberships (journal entry {entry.id}; "
        f"`campaigns undo {entry.id}` puts it back)",
    )
