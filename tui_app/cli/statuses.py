"""`campaigns statuses CAMPAIGN [add|rename|remove|default|move …]`: a campaign's member status
labels, listed and edited (every refusal one line saying which rule)."""

from __future__ import annotations

from data.engagement import LADDER
from data.text import visible
from tui_app.cli.common import emit, open_db

DIRECTIONS = {"up": -1, "down": 1}


def register(sub, common) -> None:
    p = sub.add_parser(
        "statuses",
        parents=[common],
        help="a campaign's member status labels: list, add, rename, remove, default, move",
        description="Without an action, lists the campaign's labels in order.",
    )
    p.add_argument("campaign")
    p.set_defaults(handler=cmd_statuses, action=None)
    ssub = p.add_subparsers(dest="action", metavar="ACTION")
    a = ssub.add_parser("add", parents=[common], help="add a label counting as a rung")
    a.add_argument("label")
    a.add_argument("--counts-as", required=True, metavar="RUNG", help="one of " + ", ".join(LADDER))
    a.add_argument("--after", metavar="LABEL", help="place it after this label")
    r = ssub.add_parser("rename", parents=[common], help="rename a label (members follow)")
    r.add_argument("old")
    r.add_argument("new")
    d = ssub.add_parser("remove", parents=[common], help="remove a label no member holds")
    d.add_argument("label")
    f = ssub.add_parser("default", parents=[common], help="the label given on enrollment")
    f.add_argument("label")
    m = ssub.add_parser("move", parents=[common], help="move a label within its rung")
    m.add_argument("label")
    m.add_argument("direction", choices=tuple(DIRECTIONS))


def label_rows(ladder) -> list[dict]:
    return [
        {
            "label": label.name,
            "counts_as": label.rung_name.value,
            "responded": label.responded,
            "default": label.is_default,
        }
        for label in ladder
    ]


def _table(rows: list[dict]) -> str:
    width = max([5, *(len(visible(row["label"])) for row in rows)])
    lines = [f"{'label':<{width}}  {'counts as':<10} {'responded':<9} default"]
    for row in rows:
        lines.append(
            f"{visible(row['label']):<{width}}  {row['counts_as']:<10} "
            f"{'yes' if row['responded'] else 'no':<9} {'yes' if row['default'] else ''}".rstrip()
        )
    return "\n".join(lines)


def cmd_statuses(args) -> None:
    from data import labels
    from data.campaigns import find_campaign

    open_db(args)
    campaign = find_campaign(args.campaign)
    done = ""
    if args.action == "add":
        labels.add_label(campaign, args.label, args.counts_as, args.after)
        done = f"added {args.label.strip()}"
    elif args.action == "rename":
        labels.rename_label(campaign, args.old, args.new)
        done = f"renamed {args.old} to {args.new.strip()}"
    elif args.action == "remove":
        labels.remove_label(campaign, args.label)
        done = f"removed {args.label}"
    elif args.action == "default":
        labels.set_default(campaign, args.label)
        done = f"{args.label} is now the default"
    elif args.action == "move":
        labels.move_label(campaign, args.label, DIRECTIONS[args.direction])
        done = f"moved {args.label} {args.direction}"
    rows = label_rows(labels.campaign_ladder(campaign))
    text = _table(rows)
    if done:
        text = f"{campaign.name}: {done}\n{text}"
    emit(args, rows, text)
