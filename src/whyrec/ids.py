"""How a user or item id is read wherever one comes in: the data readers, the command line, a
pairs file and the service all strip an id the same way, so the id a request names is the id the
data gave.

    stripped_id(" A2SUAM1J3GNN3B\\u200b")   # "A2SUAM1J3GNN3B"
    stripped_id("\\ufeff")                  # "" (an empty id, refused as missing)
"""

from __future__ import annotations

import unicodedata


def _invisible(character: str) -> bool:
    """Whitespace, or an invisible format character (Unicode category Cf: the zero-width space,
    the byte-order mark, left-to-right and right-to-left marks, the soft hyphen, the word joiner)."""
    return character.isspace() or unicodedata.category(character) == "Cf"


def stripped_id(text: str) -> str:
    """``text`` without the whitespace and the invisible format characters at either end.

    An id copied from a web page or a spreadsheet often carries a zero-width space or a mark that
    nothing shows; kept, it made another id than the one it looks like ("u1\\u200b" was not
    "u1"), and an id of nothing but such characters was read as a user. Characters inside an id
    are kept: a joiner between two emoji is part of a name."""
    text = text.strip()
    if text[:1].isprintable() and text[-1:].isprintable():  # no format character at either end: the usual id
        return text
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]
