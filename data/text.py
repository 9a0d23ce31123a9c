"""Untrusted text made safe to show: the one sanitizer for names, emails, event fields and file
contents on their way to a terminal (widgets, notifications, titles, human-readable CLI lines).

Control characters are made visible instead of being interpreted: C0 codes as the Unicode
control pictures (ESC as ␛, BEL as ␇), DEL as ␡, C1 codes and the invisible bidirectional and
zero-width formatting characters as `\\x9b` / `\\u202e`, and a lone surrogate as `\\udc80`.
Everything else, accents and scripts and emoji included, passes unchanged.
"""

from __future__ import annotations

_C0 = {code: chr(0x2400 + code) for code in range(0x20)}
_INVISIBLE = (
    list(range(0x80, 0xA0))  # C1 controls (CSI is 0x9b)
    + list(range(0x200B, 0x2010))  # zero-width spaces and joiners, LRM, RLM
    + list(range(0x202A, 0x202F))  # bidi embeddings and overrides
    + list(range(0x2060, 0x2070))  # word joiner, invisible operators, bidi isolates
    + [0xFEFF]  # zero-width no-break space (a BOM inside text)
)

VISIBLE = str.maketrans(
    {
        **_C0,
        0x7F: "\u2421",
        **{code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _INVISIBLE},
    }
)
"""The translation table `visible` applies."""


def visible(value: object) -> str:
    """`value` as text that shows literally on a terminal: no control character survives."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and text.isascii():
        return text  # the common case, at C speed
    text = text.translate(VISIBLE)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot reach a terminal at all
        text = "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun, singular for one: "1 campaign", "2 campaigns", "1,200 people"
    (`plural` for a noun, or a phrase with its verb, that does not just take an s:
    `counted(n, "person is", "people are")`). The one place counts meet nouns."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
