"""`campaigns lead convert EMAIL`: a lead becomes a contact, perhaps with an opportunity."""

from __future__ import annotations

from data.text import visible
from data.vocab import OpportunityStage
from tui_app.cli.common import UserError, emit, open_db


def register(sub, common) -> None:
    lead = sub.add_parser("lead", help="lead conversion")
    lsub = lead.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = lsub.add_parser("convert", parents=[common], help="convert a lead into a contact")
    p.add_argument("email")
    p.add_argument("--opportunity", metavar="NAME")
    p.add_argument("--amount", default="0")
    p.add_argument("--stage", default=OpportunityStage.PROSPECTING.value)
    p.add_argument("--campaign-source", metavar="CAMPAIGN")
    p.set_defaults(handler=cmd_convert)


def cmd_convert(args) -> None:
    from data.campaigns import find_campaign
    from data.conversion import convert_lead
    from data.emails import normalize_email
    from data.models import Lead

    open_db(args)
    lead = Lead.get_or_none(Lead.email == normalize_email(args.email))
    if lead is None:
        raise UserError(f"no lead with email {visible(args.email)}")
    source = find_campaign(args.campaign_source) if args.campaign_source else None
    result = convert_lead(
        lead,
        opportunity_name=args.opportunity,
        amount=args.amount,
        stage=args.stage,
        campaign_source=source,
    )
    data = {
        "contact_id": result.contact.id,
        "created_contact": result.created_contact,
        "opportunity_id": result.opportunity.id if result.opportunity else None,
        "source_member_status": result.source_member.status if result.source_member else None,
    }
    text = f"{visible(lead.email)}: converted to contact {result.contact.id}" + (
        " (new)" if result.created_contact else " (existing)"
    )
    if result.opportunity:
        text += f"; opportunity '{visible(result.opportunity.name)}'"
    if source is not None:
        text += (
            f"; {visible(source.name)} membership is now {result.source_member.status}"
            if result.source_member
            else f"; not a member of {visible(source.name)}"
        )
    emit(args, data, text)
