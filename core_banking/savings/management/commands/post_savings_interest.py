import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from core_banking.savings.interest_posting import (
    InterestJobSummary,
    last_month_end_before,
    savings_interest_post,
    savings_maturity_process,
)
from frontend.formatting import format_money
from tenants.models import Cooperative


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = (
        "Post a cooperative's savings interest for the periods ending on a month end (accruing where the "
        "product accrues more often than it posts), and credit the deposits matured by its business date. "
        "Without --period-end, the latest month end before the business date: what the daily task does. "
        "Running it again posts nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")
        parser.add_argument(
            "--period-end",
            help="the last day of the month whose periods are posted (YYYY-MM-DD)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = Cooperative.objects.live().filter(slug=options["slug"]).first()
        if cooperative is None:
            raise CommandError(f"No cooperative {options['slug']!r}.")
        today = cooperative.business_date()
        period_end = (
            _iso_date(options["period_end"]) if options["period_end"] else last_month_end_before(today)
        )
        if (period_end + dt.timedelta(days=1)).day != 1:
            raise CommandError(
                f"{period_end.isoformat()} is not the last day of a month; every posting period ends on one."
            )
        if period_end >= today:
            raise CommandError(
                f"The period ending {period_end.isoformat()} is not over: {cooperative.slug}'s business date "
                f"is {today.isoformat()}."
            )
        with tenant_context(cooperative):
            interest = savings_interest_post(period_end=period_end)
            maturities = savings_maturity_process(on=today)
        self._report(cooperative, f"Interest for periods ending {period_end.isoformat()}", interest)
        self._report(cooperative, f"Deposits matured by {today.isoformat()}", maturities)
        if interest.failures or maturities.failures:
            raise CommandError(
                "Some accounts were not booked (listed above); run the command again once fixed."
            )

    def _report(self, cooperative: Cooperative, title: str, summary: InterestJobSummary) -> None:
        def money(minor_units: int) -> str:
            return format_money(minor_units, cooperative.currency, "en")

        self.stdout.write(f"{title} ({cooperative.slug}):")
        for booking in summary.booked:
            what = (
                f"accrued {money(booking.payable_change_minor)}"
                if booking.kind == "accrual"
                else f"credited {money(booking.credited_minor)}"
            )
            self.stdout.write(
                f"  {booking.number}: {what} ({booking.kind}, "
                f"{booking.period_start.isoformat()} to {booking.period_end.isoformat()})"
            )
        for failure in summary.failures:
            self.stderr.write(f"  {failure.number}: not booked: {failure.code}: {failure.message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"  {len(summary.booked)} booked, {money(summary.credited_minor)} credited, "
                f"{money(summary.accrued_minor)} accrued, {summary.already_done} done before, "
                f"{len(summary.failures)} failed."
            )
        )
