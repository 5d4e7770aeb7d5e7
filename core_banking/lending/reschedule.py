"""Moving live loans' future due dates when the calendar changes (a holiday added later, new days off).

The calendar services (``core_banking.organisation``) tell their listeners inside their own
transaction; ``reschedule_for_calendar_change`` is lending's listener. Instalments already due or
partly paid stay as they are; the rest are recomputed by the engine on the new calendar
(``schedule_recast`` keeping the number of instalments), so a due date on the new holiday moves
to the next working day and, where interest is daily, the interest follows the actual dates.
Each moved loan gets an audit record with its old and new dates. ``reschedule_preview`` shows
the same result without writing anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from control_plane.audit.services import audit_record
from core_banking.lending import terms as loan_terms
from core_banking.lending.models import Loan, LoanInstallment, LoanStatus
from core_banking.lending.schedule import schedule_recast
from core_banking.lending.services.loans import schedule_of
from core_banking.members.group_listeners import MeetingDayChange
from core_banking.organisation.calendar_listeners import CalendarChange, CalendarChangeKind
from tenants.db import workspace_business_date

# A due date moves forward over consecutive days off; no calendar has more than this many in a row.
_LONGEST_RUN_OF_DAYS_OFF = 21


@dataclass(frozen=True)
class Moved:
    loan_number: str
    number: int
    old_due_date: dt.date
    new_due_date: dt.date
    old_interest_minor: int
    new_interest_minor: int


@dataclass(frozen=True)
class Rescheduled:
    loan: Loan
    moves: tuple[Moved, ...]
    rows: tuple[LoanInstallment, ...]


def _candidates(change: CalendarChange, today: dt.date) -> list[Loan]:
    loans = Loan.objects.filter(status=LoanStatus.ACTIVE).select_related("product", "branch", "member__group")
    if change.branch is not None:
        loans = loans.filter(branch_id=change.branch.pk)
    elif change.branches_unaffected:
        loans = loans.exclude(branch_id__in=change.branches_unaffected)
    open_future = LoanInstallment.objects.filter(loan_id__in=loans.values("pk"), due_date__gt=today).exclude(
        paid_on__isnull=False
    )
    if (
        change.kind != CalendarChangeKind.WEEKLY_OFF_DAYS_CHANGED
        and change.holiday is not None
        and not change.every_year
    ):
        # Only a due date on or just after the holiday can move.
        window_end = change.holiday + dt.timedelta(days=_LONGEST_RUN_OF_DAYS_OFF)
        open_future = open_future.filter(due_date__gte=change.holiday, due_date__lte=window_end)
    return list(loans.filter(pk__in=open_future.values("loan_id")).order_by("pk"))


def _recomputed(loan: Loan, today: dt.date, changes: dict[str, object] | None = None) -> Rescheduled | None:
    rows = list(LoanInstallment.objects.filter(loan_id=loan.pk).order_by("number"))
    touched = [
        row
        for row in rows
        if row.due_date <= today
        or row.paid_on is not None
        or row.principal_paid_minor
        or row.interest_paid_minor
        or row.interest_waived_minor
    ]
    keep = max((row.number for row in touched), default=0)
    if keep >= len(rows):
        return None
    terms_json = {
        **loan.terms_json,
        **loan_terms.calendar_json(loan.branch, loan.disbursed_on),
        **(changes or {}),
    }
    if "meeting_weekday" in (changes or {}):
        # The first due date was a meeting day of the old calendar; the engine derives it anew.
        terms_json.pop("first_due_date", None)
    terms = loan_terms.parse(terms_json)
    start = rows[keep - 1].due_date if keep else loan.disbursed_on
    outstanding = sum(row.principal_minor for row in rows[keep:])
    recast = schedule_recast(
        terms,
        schedule_of(loan, rows),
        keep_through_number=keep,
        outstanding_principal_minor=outstanding,
        start_date=start,
        strategy="reduce_installment",
    )
    moves = []
    new_rows = list(rows[:keep])
    for old, item in zip(rows[keep:], recast.installments[keep:], strict=False):
        if (old.due_date, old.interest_minor) != (item.due_date, item.interest_minor):
            moves.append(
                Moved(
                    loan.number,
                    old.number,
                    old.due_date,
                    item.due_date,
                    old.interest_minor,
                    item.interest_minor,
                )
            )
        old.period_start, old.due_date = item.period_start, item.due_date
        old.principal_minor, old.interest_minor = item.principal_minor, item.interest_minor
        old.earned_interest_minor = item.earned_interest_minor
        new_rows.append(old)
    if not moves:
        return None
    loan.terms_json = terms_json
    return Rescheduled(loan, tuple(moves), tuple(new_rows))


def reschedule_preview(change: CalendarChange, *, today: dt.date | None = None) -> list[Rescheduled]:
    """Which live loans the change would move, and how; nothing is written."""
    today = today or workspace_business_date()
    found = [_recomputed(loan, today) for loan in _candidates(change, today)]
    return [item for item in found if item is not None]


def reschedule_for_calendar_change(change: CalendarChange) -> None:
    """The calendar listener: move the affected loans' future due dates, each with an audit record."""
    _write(reschedule_preview(change), actor=change.actor, reason=change.kind.value, holiday=change.holiday)


def meeting_day_preview(change: MeetingDayChange, *, today: dt.date | None = None) -> list[Rescheduled]:
    """The live group-meeting loans of the group's members and how the new meeting day moves them."""
    today = today or workspace_business_date()
    loans = (
        Loan.objects.filter(
            status=LoanStatus.ACTIVE, member__group_id=change.group.pk, product__follows_group_meetings=True
        )
        .select_related("product", "branch", "member__group")
        .order_by("pk")
    )
    found = [_recomputed(loan, today, {"meeting_weekday": change.weekday_after}) for loan in loans]
    return [item for item in found if item is not None]


def reschedule_for_meeting_day_change(change: MeetingDayChange) -> None:
    """The group listener: weekly loans that follow the group's meetings fall due on the new day."""
    _write(meeting_day_preview(change), actor=change.actor, reason="meeting_day_changed", holiday=None)


def _write(items: list[Rescheduled], *, actor: object, reason: str, holiday: dt.date | None) -> None:
    for item in items:
        LoanInstallment.objects.bulk_update(
            list(item.rows),
            ["period_start", "due_date", "principal_minor", "interest_minor", "earned_interest_minor"],
        )
        Loan.objects.filter(pk=item.loan.pk).update(terms_json=item.loan.terms_json)
        audit_record(
            actor=actor,
            action="lending.loan.reschedule",
            target=item.loan,
            changes={
                "reason": reason,
                "holiday": holiday.isoformat() if holiday else None,
                "moved": [
                    [m.number, m.old_due_date.isoformat(), m.new_due_date.isoformat(), m.old_interest_minor,
                     m.new_interest_minor]
                    for m in item.moves
                ],
            },
        )  # fmt: skip
