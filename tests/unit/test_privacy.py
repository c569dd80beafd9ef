"""Personal data: who sees which tickets, masked numbers in responses and in every log line."""

from __future__ import annotations

import io
import logging

import pytest

from hotline.logging_setup import MaskPhoneNumbers, mask_numbers
from ticketing.domain.access import Actor, can_see
from ticketing.domain.roles import Role, mask_phone

LAWYER = Actor(user_id=1, role=Role.LAWYER)
COUNTY_STAFF = Actor(user_id=2, role=Role.STATION_STAFF, station_path="/1/2/3/")


@pytest.mark.parametrize(
    ("actor", "assigned", "path", "visible"),
    [
        (LAWYER, 1, None, True),
        (LAWYER, None, "/1/", True),
        (LAWYER, 9, None, False),
        (Actor(user_id=9, role=Role.LAWYER), 1, None, False),
        (COUNTY_STAFF, None, "/1/2/3/", True),  # their own station
        (COUNTY_STAFF, None, "/1/2/3/40/", True),  # a township below it
        (COUNTY_STAFF, None, "/1/2/", False),  # the city above
        (COUNTY_STAFF, None, "/1/2/30/", False),  # a sibling whose id starts alike
        (COUNTY_STAFF, None, None, False),  # not forwarded anywhere
        (Actor(user_id=3, role=Role.STATION_STAFF), None, "/1/", False),  # staff without a station
        (Actor(user_id=4, role=Role.SUPERVISOR), 9, None, True),
        (Actor(user_id=5, role=Role.ADMIN), 9, "/7/", True),
    ],
)
def test_can_see(actor: Actor, assigned: int | None, path: str | None, visible: bool) -> None:
    assert can_see(actor, assigned_lawyer_id=assigned, station_path=path) is visible


def test_lawyer_sees_a_ticket_they_accepted_for_a_colleague() -> None:
    assert can_see(LAWYER, assigned_lawyer_id=9, station_path=None, created_by_id=1)


def test_mask_phone() -> None:
    assert mask_phone("13808081234") == "138****1234"
    assert mask_phone("02886123456") == "028****3456"
    assert mask_phone("12348") == "*****"
    assert mask_phone(None) is None


def test_log_lines_mask_numbers_but_keep_ids() -> None:
    text = "call 1795449000.123 from 13808081234 (+8613912345678), station 028-86123456, ticket 12348-20261123-000042"
    assert mask_numbers(text) == (
        "call 1795449000.123 from 138****1234 (+86139****5678), station 028-****3456, ticket 12348-20261123-000042"
    )


def test_filter_masks_percent_style_arguments() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPhoneNumbers())
    logger = logging.getLogger("test.privacy")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("caller %s asked for a call-back on %s", "13808081234", "02886123456")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().strip() == "caller 138****1234 asked for a call-back on 028****3456"
