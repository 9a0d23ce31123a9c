"""`campaigns metrics [CAMPAIGN]`: rollups of one or all campaigns."""

from __future__ import annotations

from data.text import visible
from tui_app.cli.common import emit, open_db


def register(sub, common) -> None:
    p = sub.add_parser("metrics", parents=[common], help="rollups of one or all campaigns")
    p.add_argument("campaign", nargs="?")
    p.set_defaults(handler=cmd_metrics)


def cmd_metrics(args) -> None:
    from data.campaigns import find_campaign
    from data.rollups import all_metrics, campaign_metrics

    open_db(args)
    if args.campaign:
        m = campaign_metrics(find_campaign(args.campaign))
        emit(args, _metrics_json(m), _metrics_text([m]))
    else:
        ms = all_metrics()
        emit(args, [_metrics_json(m) for m in ms], _metrics_text(ms))


def _metrics_json(metrics) -> dict:
    data = metrics.as_dict()
    data.pop("campaign_id")
    return data


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
