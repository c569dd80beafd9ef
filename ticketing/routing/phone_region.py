"""The area a Chinese phone number belongs to, from `phonenumbers`' offline geocoder.

Mobile numbers resolve to a province and city (13808080808 -> 四川省成都市); fixed lines to the
cities of their area code (0971… -> 青海省西宁市; 028 covers 成都市、资阳市、眉山市).
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import geocoder

MAX_LENGTH = 32


def phone_region(number: str) -> str | None:
    """The area in Chinese, or None for an invalid, foreign or unknown number."""
    if not number or len(number) > MAX_LENGTH:
        return None
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    return geocoder.description_for_number(parsed, "zh") or None
