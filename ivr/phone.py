"""Chinese phone numbers for call-backs, checked with the phonenumbers package (libphonenumber's data)."""

from __future__ import annotations

import phonenumbers

#: Caller IDs that are not numbers at all.
ANONYMOUS = frozenset({"", "unknown", "anonymous", "restricted", "private"})
_PERSONAL = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


def callable_number(raw: str | None) -> str | None:
    """The number in national form without spaces (13808081234, 02883331234) when it is a valid
    mainland China mobile or fixed-line number with its area code; otherwise None."""
    if raw is None or raw.strip().lower() in ANONYMOUS:
        return None
    text = raw.strip()
    if not all(c.isdigit() or c in "+- " for c in text):
        return None
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) not in _PERSONAL:  # 400/800 service numbers, premium lines
        return None
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(c for c in national if c.isdigit())


def caller_key(raw: str | None) -> str | None:
    """The caller ID reduced to its digits for block lists and counters (None when withheld)."""
    if raw is None or raw.strip().lower() in ANONYMOUS:
        return None
    digits = "".join(c for c in raw if c.isdigit())
    return digits or None
