"""Lead conversion: one conversion wins a race between processes; amounts are numbers or refused."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.conversion import convert_lead, parse_amount
from data.db import open_database
from data.models import Contact, Lead, Opportunity, ValidationError
from tests import factories as f


def _convert_when_released(path: str, lead_id: int, barrier, results) -> None:
    """A second program converting the same lead: it read the lead before either converted."""
    open_database(path)
    lead = Lead.get_by_id(lead_id)
    barrier.wait(timeout=60)
    try:
        convert_lead(lead, opportunity_name="D", amount="100")
        results.put("converted")
    except ValidationError as exc:
        results.put(str(exc))


def test_two_conversions_at_once_make_one_contact_and_one_opportunity(fresh_db):
    lead = f.lead(email="x@example.com")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_convert_when_released, args=(str(fresh_db), lead.id, barrier, results))
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    outcomes = sorted(results.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
    assert outcomes == ["converted", "x@example.com was already converted"]
    assert Opportunity.select().count() == 1
    assert Contact.select().count() == 1


@pytest.mark.parametrize(
    "typed", ["NaN", "nan", "inf", "-inf", "Infinity", "1e400", "1,2,3", "12.345", "abc", "1_000"]
)
def test_an_amount_that_is_not_a_plain_number_is_refused_in_one_line(fresh_db, typed):
    lead = f.lead()
    with pytest.raises(ValidationError) as error:
        convert_lead(lead, opportunity_name="Deal", amount=typed)
    assert "\n" not in str(error.value) and "amount" in str(error.value)
    assert Lead.get_by_id(lead.id).converted_contact_id is None  # nothing written
    assert Opportunity.select().count() == 0


@pytest.mark.parametrize(
    "typed, amount",
    [("12000", "12000"), ("12,000.50", "12000.50"), (" 7 ", "7"), ("", "0"), (12.5, "12.5")],
)
def test_plain_amounts_are_taken(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


def test_negative_and_huge_amounts_say_why():
    with pytest.raises(ValidationError, match="zero or more"):
        parse_amount("-5")
    with pytest.raises(ValidationError, match="too large"):
        parse_amount("1000000000000")


@given(st.one_of(st.text(), st.floats(), st.integers(), st.decimals()))
def test_an_amount_is_a_finite_number_of_cents_or_one_validation_error(value):
    try:
        amount = parse_amount(value)
    except ValidationError as exc:
        assert "\n" not in str(exc)
        return
    assert amount.is_finite() and 0 <= amount <= Decimal("999999999999.99")
    assert amount == amount.quantize(Decimal("0.01"))


def test_the_command_line_refuses_nan_without_a_traceback(tmp_path):
    import os

    db = tmp_path / "cli.db"
    open_database(str(db))
    f.lead(email="ana@example.com")
    env = {**os.environ, "CAMPAIGNS_DB": str(db)}
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", "lead", "convert", "ana@example.com"]
        + ["--opportunity", "Deal", "--amount", "NaN"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "amount must be a number" in proc.stderr
