"""One key per place, however the address is typed: "12 Oak St." and "12  oak street" are one site.

The key is `line|city|postal_code`, each part lowercased, stripped of punctuation, with whitespace
folded and the usual US street-type, direction and unit abbreviations spelled out. Intake looks a
caller's address up by this key, so changing a rule here means recomputing `sites.address_key`.
"""

from __future__ import annotations

import re

STREET_TYPES = {
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "dr": "drive",
    "blvd": "boulevard",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "pkwy": "parkway",
    "pky": "parkway",
    "hwy": "highway",
    "ter": "terrace",
    "terr": "terrace",
    "cir": "circle",
}
DIRECTIONS = {
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "ne": "northeast",
    "nw": "northwest",
    "se": "southeast",
    "sw": "southwest",
}
# Which word a flat is announced by varies from one caller to the next; the number is what matters.
UNIT_DESIGNATORS = frozenset({"apt", "apartment", "unit", "suite", "ste", "#"})
UNIT = "unit"

_JOINED = re.compile(r"[.'’]")  # "N.E." is "ne", "O'Brien" is "obrien"
_SEPARATORS = re.compile(r"[^a-z0-9#\s]")
_ZIP_PLUS_4 = re.compile(r"^(\d{5})-?\d{4}$")


def address_key(address_line: str, city: str, postal_code: str) -> str:
    return "|".join(
        (normalize_address(address_line), normalize_address(city), normalize_postal_code(postal_code))
    )


def normalize_address(text: str) -> str:
    """A street line or city in long form: "N. Main St. #4" is "north main street unit 4"."""
    lowered = _JOINED.sub("", text.lower())
    tokens = _SEPARATORS.sub(" ", lowered).replace("#", " # ").split()
    words: list[str] = []
    for i in range(len(tokens)):
        word = _expand(tokens, i)
        if not (word == UNIT and words and words[-1] == UNIT):  # "Apt #4" is one unit
            words.append(word)
    return " ".join(words)


def normalize_postal_code(postal_code: str) -> str:
    """US ZIP+4 keeps only its five-digit ZIP, which is what callers know; other codes lose spaces."""
    compact = re.sub(r"\s+", "", postal_code.lower())
    zip_plus_4 = _ZIP_PLUS_4.match(compact)
    if zip_plus_4:
        return zip_plus_4.group(1)
    return re.sub(r"[^a-z0-9]", "", compact)


def _expand(tokens: list[str], i: int) -> str:
    word = tokens[i]
    if word in UNIT_DESIGNATORS:
        return UNIT
    if word == "st" and _opens_a_street_name(tokens, i) and _starts_a_name(tokens, i + 1):
        # "12 St James Pl" is Saint James Place; "12 Oak St Rear" and "5th St NE" are streets.
        return "saint"
    return STREET_TYPES.get(word) or DIRECTIONS.get(word) or word


def _opens_a_street_name(tokens: list[str], i: int) -> bool:
    return i == 0 or any(c.isdigit() for c in tokens[i - 1])


def _starts_a_name(tokens: list[str], i: int) -> bool:
    if i >= len(tokens):
        return False
    word = tokens[i]
    return (
        word.isalpha()
        and word not in STREET_TYPES
        and word not in DIRECTIONS
        and word not in UNIT_DESIGNATORS
        and word not in STREET_TYPES.values()
        and word not in DIRECTIONS.values()
    )
