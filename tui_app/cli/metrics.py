"""`campaigns metrics [CAMPAIGN]`: rollups of one or all campaigns."""

from __future__ import annotations

from data.text import visible
from tui_app.cli.common import UserError, emit, open_db


def register(sub, common) -> None:
    p = sub.add_parser("metrics", parents=[common], help="rollups of one or all campaigns")
    p.add_argument("campaign", nargs="?")
    p.add_argument(
        "--hierarchy",
        action="store_true",
        help="over the campaign and every campaign under it (each person counted once)",
    )
    p.set_defaults(handler=cmd_metrics)


def cmd_metrics(args) -> None:
    from data.campaigns import find_campaign
    from data.labels import label_counts
    from data.rollups import all_metrics, campaign_metrics

    open_db(args)
    if args.hierarchy:
        _hierarchy_metrics(args)
    elif args.campaign:
        m = campaign_metrics(find_campaign(args.campaign))
        by_status = label_counts([m.campaign_id])
        text = _metrics_text([m]) + "\n" + _by_status_text(by_status[m.campaign_id])
        emit(args, _metrics_json(m, by_status), text)
    else:
        ms = all_metrics()
        by_status = (
            label_counts([m.campaign_id for m in ms]) if getattr(args, "json", False) else {}
        )
        emit(args, [_metrics_json(m, by_status) for m in ms], _metrics_text(ms))


def _hierarchy_metrics(args) -> None:
    """The metrics over a campaign and those under it; `by_status` adds up the members holding
    each label name in any of them."""
    from data.campaigns import find_campaign
    from data.hierarchy import hierarchy_metrics, in_hierarchy
    from data.labels import label_counts

    if not args.campaign:
        raise UserError("--hierarchy needs a campaign: campaigns metrics NAME --hierarchy")
    top = find_campaign(args.campaign)
    m = hierarchy_metrics(top)
    ids = in_hierarchy(top)
    by_status: dict[str, int] = {}
    for counts in label_counts(ids).values():
        for name, n in counts.items():
            by_status[name] = by_status.get(name, 0) + n
    text = (
        f"{visible(top.name)} and the {len(ids) - 1} campaign(s) under it, "
        "each person counted once:\n" + _metrics_text([m]) + "\n" + _by_status_text(by_status)
    )
    emit(args, _metrics_json(m, {m.campaign_id: by_status}), text)


def _metrics_json(metrics, by_status: dict[int, dict[str, int]]) -> dict:
    data = metrics.as_dict()
    data["by_status"] = by_status.get(data.pop("campaign_id"), {})
    return data


def _by_status_text(counts: dict[str, int]) -> str:
    """The members holding each label, in the campaign's order: "Invited 120 · Attended 30"."""
    return "by status: " + " · ".join(f"{visible(name)} {n:,}" for name, n in counts.items())


def _metrics_text(ms) -> str:
    """One line a campaign; `machine` is machine opens, which the open rate leaves out."""
    head = (
        f"{'campaign':<32} {'status':<12} {'sent':>9} {'open':>6} {'click':>6} "
        f"{'resp':>6} {'conv':>6} {'bounced':>8} {'unsub':>7} {'machine':>8}"
    )
    lines = [head]
    for m in ms:
        lines.append(
            f"{visible(m.campaign)[:32]:<32} {m.status:<12} {m.sent:>9,} {m.open_rate:>6.1%} "
            f"{m.click_rate:>6.1%} {m.response_rate:>6.1%} {m.conversion_rate:>6.1%} "
            f"{m.bounced:>8,} {m.unsubscribed:>7,} {m.machine_opens:>8,}"
        )
    return "\n".join(lines)
