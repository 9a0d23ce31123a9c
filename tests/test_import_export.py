"""CSV import (all or nothing, line numbers, never re-subscribing) and member export."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.enrollment import enroll
from data.ingest import ingest_records
from data.models import Account, Contact, Lead
from data.transfer import export_members, import_people, safe_cell
from tests import factories as f

HEADER = "first_name,last_name,email,company,country,industry,lead_source\n"


def test_all_or_nothing_with_every_bad_row_by_line(fresh_db):
    text = HEADER + (
        "Ana,Silva,ana@example.com,Acme,US,Software,Web\n"
        "Ben,,ben@example.com,Acme,US,Software,Web\n"
        "Cara,Okafor,nope,Acme,US,Software,Web\n"
        "Dan,Lee,ANA@example.com,Acme,US,Software,Web\n"
    )
    report = import_people("lead", io.StringIO(text))
    assert not report.written
    assert report.invalid == [
        (3, "last name is required"),
        (4, "'nope' is not an email address"),
        (5, "email ana@example.com already appears on line 2"),
    ]
    assert Lead.select().count() == 0
    report = import_people("lead", io.StringIO(text), skip_invalid=True)
    assert report.written and report.created == 1
    assert Lead.get().email == "ana@example.com"


def test_upsert_by_email_keeps_values_that_are_left_empty(fresh_db):
    import_people("lead", io.StringIO(HEADER + "Ana,Silva,ana@example.com,Acme,US,Software,Web\n"))
    report = import_people("lead", io.StringIO(HEADER + "Ana,Silva-Lopez,Ana@Example.com,,DE,,\n"))
    assert (report.created, report.updated) == (0, 1)
    lead = Lead.get()
    assert (lead.last_name, lead.company, lead.country) == ("Silva-Lopez", "Acme", "DE")


def test_reimport_never_resubscribes_anyone(fresh_db):
    import_people("lead", io.StringIO(HEADER + "Ana,Silva,ana@example.com,Acme,US,Software,Web\n"))
    campaign = f.campaign("Spring")
    enroll(campaign)
    ingest_records(
        [
            {
                "type": "unsubscribe",
                "campaign": "Spring",
                "email": "ana@example.com",
                "at": "2026-03-02T09:00:00Z",
            }
        ]
    )
    text = "last_name,email,do_not_email,email_bounced\nSilva,ana@example.com,false,false\n"
    import_people("lead", io.StringIO(text))
    assert Lead.get().do_not_email


def test_contacts_import_links_accounts(fresh_db):
    text = (
        "first_name,last_name,email,account\n"
        "Ana,Silva,ana@example.com,Acme\nBen,Ode,ben@example.com,Acme\n"
    )
    assert import_people("contact", io.StringIO(text)).created == 2
    assert Account.select().count() == 1
    assert {c.company for c in Contact.select()} == {"Acme"}


def test_missing_email_column_is_one_clear_error(fresh_db):
    import pytest

    from data.models import ValidationError

    with pytest.raises(ValidationError, match="no email column"):
        import_people("lead", io.StringIO("name,phone\nAna,1\n"))


rows = st.lists(
    st.tuples(
        st.sampled_from(["Ana", ""]),
        st.sampled_from(["Silva", ""]),
        st.sampled_from(["a@x.io", "b@x.io", "B@x.io", "bad", ""]),
    ),
    max_size=8,
)


@given(rows)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_import_reports_exactly_the_bad_lines(fresh_db, table):
    """Each bad row is named by its line; good rows are written only when none is bad."""
    before = Lead.select().count()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["first_name", "last_name", "email"])
    expected_bad, seen = [], set()
    for n, (first, last, email) in enumerate(table, start=2):
        writer.writerow([first, last, email])
        if not (first or last or email):
            continue  # blank rows are skipped
        if not last or "@" not in email or email.lower() in seen:
            expected_bad.append(n)
        else:
            seen.add(email.lower())
    report = import_people("lead", io.StringIO(out.getvalue()))
    assert [line for line, _ in report.invalid] == expected_bad
    if expected_bad:
        assert Lead.select().count() == before
    Lead.delete().execute()


def test_export_has_the_named_columns_and_escapes_formulas(fresh_db):
    f.lead(email="ana@example.com", first_name="=SUM(A1)", company="@evil")
    campaign = f.campaign("Spring")
    enroll(campaign)
    ingest_records(
        [
            {
                "type": "click",
                "campaign": "Spring",
                "email": "ana@example.com",
                "at": "2026-03-02T09:15:00+00:00",
            }
        ]
    )
    out = io.StringIO()
    assert export_members(campaign, "all", out) == 1
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["email"] == "ana@example.com"
    assert (row["person_type"], row["status"], row["has_responded"]) == ("lead", "Clicked", "false")
    assert row["first_clicked_at"] == "2026-03-02T09:15:00Z"
    assert row["response_date"] == "" and row["converted_at"] == ""
    assert row["name"].startswith("'=") and row["company"] == "'@evil"
    out = io.StringIO()
    assert export_members(campaign, "responded", out) == 0


def test_safe_cell():
    assert [safe_cell(v) for v in ["=1", "+1", "-1", "@a", "ok", ""]] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "ok",
        "",
    ]


def test_files_with_personal_data_are_created_for_their_owner_only(fresh_db, tmp_path):
    import os

    from data.files import private_file
    from data.transfer import write_members_csv

    campaign = f.campaign()
    f.lead(email="ana@example.com")
    enroll(campaign)
    old = os.umask(0)  # even where new files would be world-readable
    try:
        write_members_csv(campaign, "all", "", str(tmp_path / "export.csv"))  # the app's `x`
        with private_file(tmp_path / "rejected.jsonl") as out:  # saved rejected events
            out.write("{}\n")
    finally:
        os.umask(old)
    for name in ("export.csv", "rejected.jsonl"):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == "0o600", name
    assert "ana@example.com" in (tmp_path / "export.csv").read_text()
