"""Whether text says anything: characters that display as nothing are not content."""

from __future__ import annotations

import re

# Unicode's Default_Ignorable_Code_Point set (zero-width characters, Hangul fillers,
# variation selectors, tags, ...) plus the blank braille pattern, which fonts draw empty.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def says_something(text: str) -> bool:
    """True when a reader would see at least one character: not only spaces, control
    or format characters, fillers and other code points that display as nothing."""
    return any(ch.isprintable() and not ch.isspace() for ch in _INVISIBLE.sub("", text))
