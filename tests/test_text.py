"""The sanitizer for untrusted text: nothing a terminal would act on gets through."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from data.text import counted, visible


def test_escape_sequences_are_shown_not_run():
    assert visible("Eve\x1b]0;TITLE\x07\x1b[5;41m") == "Eve␛]0;TITLE␇␛[5;41m"
    assert visible("Evil\x1b[2JCorp") == "Evil␛[2JCorp"
    assert visible("a\x9b2Jb") == "a\\x9b2Jb"
    assert visible("pay\u202egnp.exe") == "pay\\u202egnp.exe"


def test_ordinary_text_passes_unchanged():
    for text in ("Ana Lima", "José Müller", "東京", "😀 [bold]x[/bold]", ""):
        assert visible(text) == text


def test_lone_surrogate_is_shown_escaped():
    assert visible("\ud800@x.co") == "\\ud800@x.co"


@given(st.text())
def test_no_control_character_survives(text):
    shown = visible(text)
    shown.encode("utf-8")  # always encodable
    for char in shown:
        assert unicodedata.category(char) not in ("Cc", "Cs"), repr(char)
        assert (
            char not in "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        )


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf"))))
def test_printable_text_is_left_alone(text):
    assert visible(text) == text


def test_counted_is_singular_for_one_only():

    assert counted(1, "campaign") == "1 campaign"
    assert counted(0, "campaign") == "0 campaigns"
    assert counted(2, "event") == "2 events"
    assert counted(1_200, "person", "people") == "1,200 people"
    assert counted(1, "person matches", "people match") == "1 person matches"
    assert counted(3, "member holds", "members hold") == "3 members hold"


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["lead", "invalid row"]))
def test_counted_reads_back_as_its_count_and_noun(count, noun):

    number, _, word = counted(count, noun).partition(" ")
    assert int(number.replace(",", "")) == count
    assert word == (noun if count == 1 else noun + "s")
