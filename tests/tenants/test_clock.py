"""Each cooperative's business date follows its own time zone, not the server's."""

from __future__ import annotations

import datetime as dt

from tenants.models import Cooperative

# 19:30 on 23 November in UTC, the server's clock.
INSTANT = dt.datetime(2026, 11, 23, 19, 30, tzinfo=dt.UTC)


def _cooperative(time_zone: str) -> Cooperative:
    return Cooperative(
        name="x", slug="x", country="BD", currency="BDT", default_language="bn", time_zone=time_zone
    )


def test_dhaka_is_already_on_the_next_day() -> None:
    assert _cooperative("Asia/Dhaka").business_date(INSTANT) == dt.date(2026, 11, 24)  # 01:30 local


def test_ho_chi_minh_city_and_bangkok_too() -> None:
    assert _cooperative("Asia/Ho_Chi_Minh").business_date(INSTANT) == dt.date(2026, 11, 24)  # 02:30
    assert _cooperative("Asia/Bangkok").business_date(INSTANT) == dt.date(2026, 11, 24)


def test_a_cooperative_west_of_utc_is_still_on_the_same_day() -> None:
    assert _cooperative("America/Lima").business_date(INSTANT) == dt.date(2026, 11, 23)  # 14:30


def test_an_hour_earlier_dhaka_is_still_on_the_23rd() -> None:
    assert _cooperative("Asia/Dhaka").business_date(INSTANT - dt.timedelta(hours=2)) == dt.date(2026, 11, 23)
