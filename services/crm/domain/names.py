"""Name and mailbox normalisation for search and merge suggestions."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
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
    """Case- and accent-insensitive form: "Zoë Ångström" -> "zoe angstrom"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sort_name(display_name: str) -> str:
    """The name as search orders and compares it: folded, words only, single spaces."""
    return " ".join(_WORD.findall(fold(display_name)))


def name_tokens(display_name: str) -> list[str]:
    """The words a name is found by, each matched by prefix."""
    return sorted(set(_WORD.findall(fold(display_name))))


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: "+tags" dropped everywhere, dots too at
    providers that ignore them, and googlemail.com read as gmail.com."""
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        return f"{local.replace('.', '')}@{_DOTLESS_DOMAINS[domain]}"
    return f"{local}@{domain}"
