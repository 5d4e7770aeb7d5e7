"""The calendar page: the year's holidays in the reader's date format, and the forms that change the
calendar, for those who may."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.test import Client

from control_plane.audit.models import AuditEvent
from core_banking.organisation.models import Branch, Holiday, WeeklyOffDays
from core_banking.organisation.services import holiday_create
from tenants.models import Cooperative
from tests.conftest import ALPHA, workspace_client

D = dt.date
PAGE = "/organisation/calendar/"


def _client(username: str, language: str = "en") -> Client:
    client = workspace_client(ALPHA, username=username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_page_lists_a_years_holidays_with_yearly_ones_on_their_date(
    head_office: Branch, br1: Branch
) -> None:
    holiday_create(actor=None, day=D(2020, 3, 26), name="Independence Day", every_year=True)
    holiday_create(actor=None, day=D(2027, 9, 9), name="Branch foundation day", branch=br1)
    holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    page = _client(ALPHA.admin).get(PAGE, {"year": 2027})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/organisation/calendar/"' in html  # in the menu
    assert "Mar 26, 2027" in html and "Friday" in html and "Every year" in html
    assert "Sep 9, 2027" in html and "BR1 Branch one" in html
    assert "Victory Day" not in html  # 2026 only
    assert 'value="2027" selected' in html
    assert "Add a holiday" in html and "Save the weekly off-days" in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "two elements share an id"


def test_thai_readers_see_buddhist_era_years(head_office: Branch) -> None:
    holiday_create(actor=None, day=D(2026, 4, 13), name="Songkran")
    client = _client(ALPHA.admin, "th")
    # Alpha writes its numbers in native digits: a Thai reader gets Thai ones.
    html = client.get(PAGE, {"year": 2026}).content.decode()
    assert "๑๓ เม.ย. ๒๕๖๙" in html
    assert '<option value="2026" selected>๒๕๖๙</option>' in html
    Cooperative.objects.filter(slug=ALPHA.slug).update(use_native_digits=False)
    html = client.get(PAGE, {"year": 2026}).content.decode()
    assert "13 เม.ย. 2569" in html
    assert '<option value="2026" selected>2569</option>' in html
    assert "วันจันทร์" in html  # 13 April 2026 is a Monday


def test_the_year_picker_swaps_only_the_list(head_office: Branch) -> None:
    holiday_create(actor=None, day=D(2028, 1, 1), name="New year")
    partial = _client(ALPHA.admin).get(PAGE, {"year": 2028}, HTTP_HX_REQUEST="true").content.decode()
    assert "New year" in partial and "<html" not in partial and "Add a holiday" not in partial


def test_an_admin_adds_and_removes_a_holiday(head_office: Branch, br1: Branch) -> None:
    client = _client(ALPHA.admin)
    added = client.post(
        f"{PAGE}holidays/", {"day": "2026-05-01", "name": "May Day", "branch": br1.pk, "every_year": "on"}
    )
    assert added.status_code == 302 and added["Location"] == f"{PAGE}?year=2026"
    holiday = Holiday.objects.get(name="May Day")
    assert (holiday.branch, holiday.every_year, holiday.created_by.username) == (br1, True, ALPHA.admin)  # type: ignore[union-attr]
    again = client.post(f"{PAGE}holidays/", {"day": "2026-05-01", "name": "Labour Day", "branch": br1.pk})
    assert again.status_code == 400
    assert "2026-05-01 is already a holiday: May Day (every year)." in again.content.decode()
    removed = client.post(f"{PAGE}holidays/{holiday.pk}/delete/", {"year": "2026"})
    assert removed.status_code == 302 and removed["Location"] == f"{PAGE}?year=2026"
    assert not Holiday.objects.exists()
    actions = AuditEvent.objects.filter(action__startswith="holiday.").order_by("id")
    assert list(actions.values_list("action", flat=True)) == ["holiday.create", "holiday.delete"]


def test_an_admin_sets_weekly_off_days_for_a_branch(head_office: Branch, br1: Branch) -> None:
    client = _client(ALPHA.admin)
    saved = client.post(f"{PAGE}weekly-off-days/", {"branch": br1.pk, "weekdays": ["4", "5"], "year": "2026"})
    assert saved.status_code == 302
    assert WeeklyOffDays.objects.get(branch=br1).weekdays == [4, 5]
    html = client.get(PAGE).content.decode()
    assert "Friday, Saturday" in html
    # The branch's "Change" link opens the form on its own days.
    chosen = client.get(PAGE, {"off_days_branch": br1.pk}).content.decode()
    form = chosen.split('id="off-days-form"')[1]
    assert f'<option value="{br1.pk}" selected>' in form
    assert (
        'value="4" id="off_days_weekdays_4" checked' in form
        and 'value="5" id="off_days_weekdays_5" checked' in form
    )
    every_day = client.post(f"{PAGE}weekly-off-days/", {"weekdays": [str(day) for day in range(7)]})
    assert every_day.status_code == 400
    assert "At least one day of the week must be a working day." in every_day.content.decode()
    assert WeeklyOffDays.objects.get(branch=None).weekdays == [4]


def test_staff_without_the_capability_read_but_cannot_change(head_office: Branch) -> None:
    holiday = holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    officer = _client(ALPHA.only_here)
    html = officer.get(PAGE, {"year": 2026}).content.decode()
    assert "Victory Day" in html and "Add a holiday" not in html and "Remove" not in html
    assert officer.post(f"{PAGE}holidays/", {"day": "2026-12-17", "name": "X"}).status_code == 403
    assert officer.post(f"{PAGE}holidays/{holiday.pk}/delete/").status_code == 403
    assert officer.post(f"{PAGE}weekly-off-days/", {"weekdays": ["0"]}).status_code == 403
    auditor = _client("auditor")
    assert auditor.get(PAGE).status_code == 200
    assert auditor.post(f"{PAGE}holidays/", {"day": "2026-12-17", "name": "X"}).status_code == 403
    assert Holiday.objects.count() == 1
    assert Client(HTTP_HOST=ALPHA.host).get(PAGE).status_code == 302  # to the log-in page
