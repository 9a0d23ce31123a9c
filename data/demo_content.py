"""What the demo's people engage with: links with titles, forms, webinar and event sessions,
assets, per campaign (by its template's name, else its type), so every view of §8 shows
something on `campaigns --demo`."""

from __future__ import annotations

SITE = "https://www.example.com"

LINKS: dict[str, tuple[tuple[str, str], ...]] = {
    "Spring Product Webinar": (
        ("Webinar recording", "/webinars/spring/recording"),
        ("Pricing guide", "/pricing"),
        ("Slides: what's new this spring", "/webinars/spring/slides.pdf"),
    ),
    "EMEA Roadshow": (
        ("Roadshow agenda", "/events/emea-roadshow/agenda"),
        ("Book a meeting with our team", "/events/emea-roadshow/meet"),
        ("Venue and travel", "/events/emea-roadshow/venue"),
    ),
    "Customer Upsell Newsletter": (
        ("Customer story: Globex cut churn 30%", "/customers/globex"),
        ("New: Analytics add-on", "/products/analytics"),
        ("Release notes", "/releases/latest"),
    ),
    "Whitepaper: Data Security": (
        ("Data Security Whitepaper (PDF)", "/whitepapers/data-security.pdf"),
        ("Security checklist", "/security/checklist"),
    ),
    "Renewal Drive": (
        ("Renew and save 15%", "/renew"),
        ("Your plan compared", "/pricing/compare"),
    ),
    "Developer Conference": (
        ("Conference schedule", "/devcon/schedule"),
        ("Talk recordings", "/devcon/recordings"),
    ),
    "Partner Summit": (("Partner programme guide", "/partners/guide"),),
    "Analyst Report Download": (("Analyst report 2026 (PDF)", "/reports/analyst-2026.pdf"),),
    "Holiday Promotion": (("Holiday bundle offer", "/offers/holiday"), ("Gift cards", "/gift")),
    "North America Launch": (
        ("Launch announcement", "/news/na-launch"),
        ("Pricing guide", "/pricing"),
    ),
    "Onboarding Series": (
        ("Getting started guide", "/docs/start"),
        ("Import your contacts", "/docs/import"),
    ),
    "Retargeting Ads Q3": (("Free trial", "/trial"), ("Pricing guide", "/pricing")),
}
"""Each campaign's links (title, path); the first is the one most people click."""

RESPONSES: dict[str, tuple[tuple[str, str], ...]] = {
    "Spring Product Webinar": (
        ("session", "Spring webinar: Scaling Postgres"),
        ("session", "Spring webinar: Live demo and Q&A"),
    ),
    "EMEA Roadshow": (
        ("session", "EMEA Roadshow · Berlin"),
        ("session", "EMEA Roadshow · London"),
        ("session", "EMEA Roadshow · Paris"),
    ),
    "Developer Conference": (
        ("session", "DevCon keynote"),
        ("session", "DevCon workshop: bulk APIs"),
    ),
    "Partner Summit": (("session", "Partner Summit · Amsterdam"),),
    "Whitepaper: Data Security": (("form", "Whitepaper download"),),
    "Analyst Report Download": (("asset", "Analyst report 2026"),),
    "Renewal Drive": (("form", "Renewal quote request"),),
    "Customer Upsell Newsletter": (("form", "Analytics add-on trial"),),
}
"""What a response was: a session attended, a form filled in, an asset downloaded."""

DEFAULT_RESPONSES = (("form", "Contact sales"), ("form", "Demo request"))


def _pick(options: tuple, member_id: int) -> tuple:
    """An option, the first ones more often (what content worked has a winner)."""
    n = member_id * 2654435761 % 100
    index = 0 if n < 55 else 1 if n < 85 else 2
    return options[min(index, len(options) - 1)]


def demo_content(template: str, event_type: str, member_id: int) -> dict[str, str]:
    """The content keys of a demo event (none for opens and the rest)."""
    if event_type == "click":
        title, path = _pick(LINKS.get(template, (("Pricing guide", "/pricing"),)), member_id)
        return {"url": f"{SITE}{path}?utm_source=campaign&mid={member_id}", "title": title}
    if event_type == "respond":
        key, name = _pick(RESPONSES.get(template, DEFAULT_RESPONSES), member_id // 3)
        return {key: name}
    return {}
