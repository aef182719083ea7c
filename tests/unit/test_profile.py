"""A customer's profile: language tags and names that show."""

from __future__ import annotations

import pytest

from services.crm.domain.errors import InvalidInputError
from services.crm.domain.profile import CustomerProfile


@pytest.mark.parametrize(
    "code",
    [
        "en",
        "EN-gb",
        "gsw",
        "zh-Hant-TW",
        "sr-Latn-RS",
        "es-419",
        "de-CH-1996",
        "sl-rozaj-biske",
        "en-US-u-ca-gregory",
        "en-x-internal",
        "x-whatever",
        "zh-yue-HK",
        "i-klingon",
    ],
)
def test_well_formed_bcp47_tags_are_accepted(code: str) -> None:
    assert CustomerProfile(language_code=code).language_code == code


@pytest.mark.parametrize(
    "code",
    [
        "en\n",
        " en",
        "en ",
        "english",
        "e",
        "en_GB",
        "en-",
        "-en",
        "en--GB",
        "en-GB-",
        "en-x",
        "en-a",
        "english!",
        "\u0665\u0666",
        "en-" + "-".join(["abcde"] * 11),
    ],
)
def test_anything_else_is_an_invalid_language_code(code: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        CustomerProfile(language_code=code)
    assert [(v.field, v.reason) for v in raised.value.violations] == [
        ("language_code", "INVALID_LANGUAGE_CODE")
    ]


@pytest.mark.parametrize("name", [" ", "\u3164", "\u2800", "\u115f\u1160", "\uffa0", "\u200b"])
def test_a_display_name_that_shows_nothing_is_refused(name: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        CustomerProfile(display_name=name)
    assert [(v.field, v.reason) for v in raised.value.violations] == [
        ("display_name", "BLANK_DISPLAY_NAME")
    ]


def test_no_display_name_at_all_is_fine() -> None:
    assert CustomerProfile(display_name="").display_name == ""
