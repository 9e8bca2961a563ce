from __future__ import annotations

import pytest

from assets.addresses import address_key, normalize_address, normalize_postal_code


def test_a_trailing_period_and_a_double_space_give_the_same_key() -> None:
    assert address_key("12 Oak St.", "Springfield", "62701") == address_key(
        "12  oak street", "Springfield", "62701"
    )


def test_the_key_is_line_city_and_postcode_joined_by_bars() -> None:
    assert address_key("12 Oak St.", "Springfield", "62701") == "12 oak street|springfield|62701"


def test_another_house_number_is_another_key() -> None:
    assert address_key("12 Oak St", "Springfield", "62701") != address_key(
        "14 Oak St", "Springfield", "62701"
    )


def test_the_same_street_in_another_city_is_another_key() -> None:
    assert address_key("12 Oak St", "Springfield", "62701") != address_key(
        "12 Oak St", "Shelbyville", "62701"
    )


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("1 Elm St", "1 elm street"),
        ("1 Elm Ave", "1 elm avenue"),
        ("1 Elm Rd", "1 elm road"),
        ("1 Elm Dr", "1 elm drive"),
        ("1 Elm Blvd", "1 elm boulevard"),
        ("1 Elm Ln", "1 elm lane"),
        ("1 Elm Ct", "1 elm court"),
        ("1 Elm Pl", "1 elm place"),
        ("1 Elm Pkwy", "1 elm parkway"),
        ("1 Elm Hwy", "1 elm highway"),
        ("1 Elm Ter", "1 elm terrace"),
        ("1 Elm Cir", "1 elm circle"),
    ],
)
def test_street_type_abbreviations_are_spelled_out(short: str, long: str) -> None:
    assert normalize_address(short) == long


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("1 N Elm", "1 north elm"),
        ("1 S Elm", "1 south elm"),
        ("1 E Elm", "1 east elm"),
        ("1 W Elm", "1 west elm"),
        ("1 NE Elm", "1 northeast elm"),
        ("1 NW Elm", "1 northwest elm"),
        ("1 SE Elm", "1 southeast elm"),
        ("1 SW Elm", "1 southwest elm"),
    ],
)
def test_directions_are_spelled_out(short: str, long: str) -> None:
    assert normalize_address(short) == long


def test_a_dotted_direction_is_one_word() -> None:
    assert normalize_address("5 N.E. Elm") == "5 northeast elm"


@pytest.mark.parametrize(
    "designator", ["Apt 4", "Apt. 4", "Apartment 4", "Unit 4", "#4", "# 4", "Suite 4", "Ste 4"]
)
def test_every_unit_designator_names_the_same_unit(designator: str) -> None:
    assert normalize_address(f"12 Oak St {designator}") == "12 oak street unit 4"


def test_a_designator_followed_by_a_hash_names_one_unit() -> None:
    assert normalize_address("12 Oak St Apt #4") == "12 oak street unit 4"


def test_st_before_a_name_is_saint() -> None:
    assert normalize_address("12 St. James Pl") == "12 saint james place"


def test_st_at_the_end_of_a_line_is_street() -> None:
    assert normalize_address("12 James St") == "12 james street"


def test_st_after_a_street_name_is_street_whatever_follows() -> None:
    assert (
        normalize_address("12 Oak St Rear") == normalize_address("12 Oak Street Rear") == "12 oak street rear"
    )


def test_st_before_a_direction_is_street() -> None:
    assert normalize_address("5th St NE") == "5th street northeast"


def test_a_city_is_normalised_like_a_street_line() -> None:
    assert normalize_address("St. Louis") == normalize_address("Saint Louis") == "saint louis"


def test_an_apostrophe_joins_rather_than_splits_a_word() -> None:
    assert normalize_address("12 O'Brien Rd") == "12 obrien road"


def test_other_punctuation_separates_words() -> None:
    assert normalize_address("12-14 Oak St/Rear") == "12 14 oak street rear"


def test_a_zip_plus_4_keys_as_its_five_digit_zip() -> None:
    assert normalize_postal_code("62701-1234") == normalize_postal_code("62701") == "62701"


def test_a_postcode_with_letters_loses_case_and_spaces() -> None:
    assert normalize_postal_code("K1A 0B6") == "k1a0b6"


def test_an_empty_address_gives_an_empty_key_part() -> None:
    assert address_key("12 Oak St", "", "") == "12 oak street||"
