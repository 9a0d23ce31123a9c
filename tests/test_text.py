"""The sanitizer for untrusted text: nothing a terminal would act on gets through."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from data.text import visible


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
