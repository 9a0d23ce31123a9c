"""What a person engaged with, for scripts and reps: `person show`, `people hot`, `content`."""

from __future__ import annotations

from tui_app.cli.common import UserError, command_group, emit, open_db


def register(sub, common) -> None:
    psub = command_group(sub, "person", "one person: show, forget, export")
    p = psub.add_parser(
        "show", parents=[common], help="a lead or contact and what they engaged with"
    )
    p.add_argument("email")
    p.set_defaults(handler=cmd_person_show)

    hsub = command_group(sub, "people", "people: the hot list, duplicates, merge")
    p = hsub.add_parser(
        "hot",
        parents=[common],
        help="people not converted and not suppressed, best engagement score first",
    )
    p.add_argument("--limit", type=_positive, default=25, metavar="N")
    p.add_argument("--filter", default="", metavar="TEXT", help="the filter language (see help)")
    p.set_defaults(handler=cmd_people_hot)

    p = sub.add_parser(
        "content",
        parents=[common],
        help="what content worked in a campaign: each link, form, session or asset by people",
    )
    p.add_argument("campaign")
    p.set_defaults(handler=cmd_content)


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("give a number from 1 to 10000")
    return value


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def cmd_person_show(args) -> None:
    from data.engaged import find_person, person_activity
    from data.models import utcnow

    open_db(args)
    person = find_person(args.email)
    if person is None:
        raise UserError(f"no lead or contact with email {args.email}")
    now = utcnow()
    a = person_activity(person, now)
    name = f"{person.first_name} {person.last_name}".strip()
    data = {
        "email": person.email,
        "name": name,
        "kind": a.kind,
        "title": person.title,
        "country": person.country,
        "do_not_email": bool(person.do_not_email),
        "email_bounced": bool(person.email_bounced),
        "score": a.score,
        "summary": a.summary,
        "score_explained": [
            {
                "what": p.what,
                "content": p.content,
                "campaign": p.campaign,
                "count": p.count,
                "points": round(p.points, 1),
            }
            for p in a.explanation
        ],
        "weeks": a.weeks,
        "memberships": [
            {
                "campaign": m.campaign,
                "status": m.status,
                "added_at": _iso(m.added_at),
                "first_opened_at": _iso(m.first_opened_at),
                "first_clicked_at": _iso(m.first_clicked_at),
                "response_date": _iso(m.response_date),
                "converted_at": _iso(m.converted_at),
            }
            for m in a.memberships
        ],
        "timeline": [activity.as_dict() for activity in a.timeline],
    }
    flags = [
        flag
        for flag, on in (("DO NOT EMAIL", person.do_not_email), ("BOUNCED", person.email_bounced))
        if on
    ]
    lines = [
        f"{name} <{person.email}> · {a.kind}" + (f" · {' · '.join(flags)}" if flags else ""),
        f"score {a.score}/100" + (" (bounced or unsubscribed)" if a.stopped else ""),
        *[f"  {line}" for line in a.summary or ["no engagement yet"]],
        "",
        "memberships:",
        *[
            f"  {m.campaign[:32]:<32} {m.status:<14} added {_day(m.added_at)}"
            for m in a.memberships
        ],
        "",
        "timeline (newest first):",
        *[
            f"  {_day(t.at)}  {t.campaign[:24]:<24} {t.what:<12} {t.content or ''}"
            for t in a.timeline
        ],
    ]
    emit(args, data, "\n".join(lines))


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def cmd_people_hot(args) -> None:
    from data.engaged import hot_list, when
    from data.errors import ValidationError
    from data.models import utcnow

    open_db(args)
    now = utcnow()
    try:
        hot = hot_list(now, limit=args.limit, filter_text=args.filter)
    except ValidationError as exc:
        raise UserError(f"invalid filter: {exc}") from None
    lines = [f"{'score':>5}  {'name':<24} {'email':<30} last touch"]
    for p in hot:
        touch = f"{p.last_type} {p.content or ''}".strip()
        ago = when(p.last_touch, now) if p.last_touch else ""
        lines.append(f"{p.score:>5}  {p.name[:24]:<24} {p.email[:30]:<30} {touch} · {ago}")
    if not hot:
        lines = ["nobody engaged yet" + (" matching the filter" if args.filter else "")]
    emit(args, [p.as_dict() for p in hot], "\n".join(lines))


def cmd_content(args) -> None:
    from data.campaigns import find_campaign
    from data.engaged import content_report

    open_db(args)
    campaign = find_campaign(args.campaign)
    rows = content_report(campaign.id)
    lines = [f"{'people':>7} {'events':>7}  content"] + [
        f"{r.people:>7,} {r.events:>7,}  {r.content}" for r in rows
    ]
    if not rows:
        lines = [f"{campaign.name}: no content engaged with yet"]
    emit(args, [r.as_dict() for r in rows], "\n".join(lines))
