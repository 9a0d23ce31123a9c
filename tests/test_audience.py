"""An audience's criteria mean what the same terms mean in every list's filter: case folded
alike, one field vocabulary (the filter language's names taken by `--where`), on both backends."""

from __future__ import annotations

import json

from data.audience import count_matching, parse_where
from data.people import people_count
from tests import factories as f
from tests.test_cli import LEADS, run


def test_audience_criteria_ignore_case_as_the_picker_does(fresh_db):
    f.lead(country="DE", industry="Software", lead_source="Web", title="VP Sales")
    f.lead(country="ÉIRE", industry="Ingeniería")
    f.contact(country="de", industry="SOFTWARE")
    for criteria, text, picked in (
        ({"country": ["de"]}, "country:de", 2),
        ({"country": ["Éire"]}, "country:Éire", 1),
        ({"industry": ["software"]}, "industry:software", 2),
        ({"industry": ["INGENIERÍA"]}, "industry:INGENIERÍA", 1),
        ({"lead_source": ["WEB"]}, "source:WEB", 1),
        ({"title_contains": "vp"}, "title:vp", 1),
    ):
        assert count_matching("both", criteria) == picked, criteria
        assert people_count("lead", text) + people_count("contact", text) == picked, text
    assert count_matching("contacts", {"lead_source": ["Web"]}) == 0  # contacts have none


def test_where_takes_the_filter_languages_names_and_keeps_its_own():
    assert parse_where(["source=Web,Partner", "title=vp", "created=2026-01-31"]) == {
        "lead_source": ["Web", "Partner"],
        "title_contains": "vp",
        "created_since": "2026-01-31",
    }
    assert parse_where(["lead_source=Web", "title_contains=vp"]) == {
        "lead_source": ["Web"],
        "title_contains": "vp",
    }


def test_where_enrolls_whom_the_picker_finds_whatever_the_case(tmp_path):
    db = tmp_path / "cli.db"
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    run(db, "import", "leads", str(leads))
    run(db, "campaign", "create", "Lower", "--kind", "leads", "--where", "country=de,us")
    started = json.loads(run(db, "campaign", "start", "Lower", "--json").stdout)
    assert started["enrolled"] == 3
