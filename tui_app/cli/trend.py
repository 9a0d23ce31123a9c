"""`campaigns trend CAMPAIGN [--by day|week]`: people opening, clicking, responding over time."""

from __future__ import annotations

from data.text import visible
from data.trend import BUCKETS, WEEKLY_AFTER_DAYS
from tui_app.cli.common import emit, open_db


def register(sub, common) -> None:
    p = sub.add_parser(
        "trend",
        parents=[common],
        help="people opening, clicking and responding per day or week",
    )
    p.add_argument("campaign")
    p.add_argument(
        "--by",
        choices=BUCKETS,
        help="bucket per day or per week (default: per week once a campaign spans "
        f"over {WEEKLY_AFTER_DAYS} days)",
    )
    p.set_defaults(handler=cmd_trend)


def cmd_trend(args) -> None:
    from data.campaigns import find_campaign
    from data.trend import campaign_trend

    open_db(args)
    campaign = find_campaign(args.campaign)
    trend = campaign_trend(campaign, args.by)
    lines = [f"{visible(campaign.name)}: per {trend.by}"]
    lines.append(f"{trend.by:<10} {'opened':>8} {'clicked':>8} {'responded':>10}")
    lines += [
        f"{p.date.isoformat():<10} {p.opened:>8,} {p.clicked:>8,} {p.responded:>10,}"
        for p in trend.points
    ]
    if not trend.points:
        lines.append("no opens, clicks or responses yet")
    emit(args, [p.as_dict() for p in trend.points], "\n".join(lines))
