from __future__ import annotations

import pytest

from services.crm.domain.names import mailbox, name_tokens, sort_name


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Zoë Ångström", ["angstrom", "zoe"]),
        ("Søren Łukasz Đorđe", ["dorde", "lukasz", "soren"]),
        ("O'Brien", ["brien", "o", "obrien"]),
        ("Jean-Luc", ["jean", "jeanluc", "luc"]),
        ("प्रिया शर्मा", ["प्रिया", "शर्मा"]),
        ("  ", []),
    ],
)
def test_names_are_found_by_folded_words(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


def test_sort_names_ignore_case_accents_and_spacing() -> None:
    assert sort_name("ZOË  ångström") == sort_name("Zoe Angstrom") == "zoe angstrom"


@pytest.mark.parametrize(
    ("address", "box"),
    [
        ("a.d.a+shop@googlemail.com", "ada@gmail.com"),
        ("ada+x@example.com", "ada@example.com"),
        ("a.da@example.com", "a.da@example.com"),
        ("+sales@corp.example", "+sales@corp.example"),
    ],
)
def test_mailboxes(address: str, box: str) -> None:
    assert mailbox(address) == box
