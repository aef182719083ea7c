"""Name and mailbox normalisation for search and merge suggestions."""

from __future__ import annotations

import re
import unicodedata

_JOINERS = re.compile("['\u2019\\-\u2010]")
# Letters that do not decompose into a base letter and an accent.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ß": "ss",
        "\u0131": "i",
    }
)
# Accents are dropped from Latin, Greek and Cyrillic letters only.
_END_OF_ACCENTED_SCRIPTS = "\u0530"
# Providers where dots in the local part do not matter and googlemail is gmail.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.ru",
    }
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Zoë Ångström" -> "zoe angstrom", "Søren" ->
    "soren". Marks are kept where they are part of the letter, as in Indic scripts."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and kept and kept[-1] < _END_OF_ACCENTED_SCRIPTS:
            continue
        kept.append(ch)
    return "".join(kept)


def sort_name(display_name: str) -> str:
    """The name as search orders and compares it: folded, words only, single spaces."""
    return " ".join(_words(fold(display_name)))


def name_tokens(display_name: str) -> list[str]:
    """The words a name is found by, each matched by prefix; "O'Brien" and "Jean-Luc"
    are also found as "obrien" and "jeanluc"."""
    folded = fold(display_name)
    joined = [_JOINERS.sub("", word) for word in folded.split()]
    return sorted(set(_words(folded)) | {word for word in joined if _words(word) == [word]})


def _words(text: str) -> list[str]:
    words, current = [], []
    for ch in text:
        if ch.isalnum() or unicodedata.category(ch).startswith("M"):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: "+tags" dropped everywhere, dots too at
    providers that ignore them, and googlemail.com read as gmail.com."""
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0] or local  # "+sales@x" names a mailbox of its own.
    if domain in _DOTLESS_DOMAINS:
        return f"{local.replace('.', '')}@{_DOTLESS_DOMAINS[domain]}"
    return f"{local}@{domain}"
