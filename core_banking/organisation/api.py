"""REST API of the working-day calendar (under /api/v1/organisation/calendar/).

Every staff user reads the calendar: the cooperative-wide holidays and weekly off-days, and those of
the branches they may see (another branch answers as if it did not exist). Changing it needs
``manage_organisation``. Weekdays are numbers, 0 Monday to 6 Sunday.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core_banking.organisation import selectors, services
from core_banking.organisation.models import Branch, Holiday
from core_banking.organisation.selectors import HolidayOccurrence, WeeklyOffDaysOverview
from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability
from tenants.db import workspace_business_date

WEEKDAYS_HELP = "Days of the week, 0 (Monday) to 6 (Sunday)."


class HolidaySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="holiday.pk")
    on = serializers.DateField(help_text="The date it falls on in the year asked for.")
    day = serializers.DateField(source="holiday.day", help_text="Its date; a yearly one's first.")
    name = serializers.CharField(source="holiday.name")
    branch = serializers.IntegerField(
        source="holiday.branch_id", allow_null=True, help_text="null: every branch."
    )
    branch_code = serializers.CharField(source="holiday.branch.code", default=None, allow_null=True)
    every_year = serializers.BooleanField(source="holiday.every_year")
    created_by = serializers.CharField(source="holiday.created_by.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField(source="holiday.created_at")


class HolidayInSerializer(serializers.Serializer):
    day = serializers.DateField()
    name = serializers.CharField(max_length=120)
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.all(), allow_null=True, required=False, default=None,
        help_text="null or absent: every branch.",
    )  # fmt: skip
    every_year = serializers.BooleanField(
        default=False, help_text="Repeats on this day and month every year from this date's year on."
    )


class HolidayListQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1900, max_value=2999, required=False)
    branch = serializers.IntegerField(required=False)


class BranchOffDaysSerializer(serializers.Serializer):
    branch = serializers.IntegerField(source="branch.pk")
    branch_code = serializers.CharField(source="branch.code")
    branch_name = serializers.CharField(source="branch.name")
    own = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The branch's own days; empty: it keeps the cooperative's.",
    )
    applied = serializers.ListField(child=serializers.IntegerField(), help_text="The days off it keeps.")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {**data, "own": sorted(data["own"]), "applied": sorted(data["applied"])}


class WeeklyOffDaysSerializer(serializers.Serializer):
    cooperative = serializers.ListField(child=serializers.IntegerField(), help_text=WEEKDAYS_HELP)
    branches = BranchOffDaysSerializer(many=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {**data, "cooperative": sorted(data["cooperative"])}


class WeeklyOffDaysInSerializer(serializers.Serializer):
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), allow_empty=True,
        help_text=WEEKDAYS_HELP + " For a branch, an empty list: it keeps the cooperative's days.",
    )  # fmt: skip
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.all(), allow_null=True, required=False, default=None,
        help_text="null or absent: the cooperative's days.",
    )  # fmt: skip


class WorkingDaysQuerySerializer(serializers.Serializer):
    branch = serializers.IntegerField(required=False)
    start = serializers.DateField()
    end = serializers.DateField()


class WorkingCalendarSerializer(serializers.Serializer):
    branch = serializers.IntegerField(allow_null=True)
    start = serializers.DateField()
    end = serializers.DateField()
    weekly_off_days = serializers.ListField(child=serializers.IntegerField(), help_text=WEEKDAYS_HELP)
    holidays = serializers.ListField(
        child=serializers.DateField(),
        help_text="Every holiday from 1 January of the start's year to 31 December of the end's.",
    )


class CalendarApiView(StaffApiView):
    def branches(self) -> Any:
        return selectors.branches_visible(self.visible_branch_ids())

    def branch(self, branch_id: int | None) -> Branch | None:
        """The branch asked for, if the user may see it (404 otherwise); None when none is asked for."""
        if branch_id is None:
            return None
        branch = self.branches().filter(pk=branch_id).first()
        if branch is None:
            raise Http404
        return branch

    def writer_input(self, serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
        self.require(Capability.MANAGE_ORGANISATION)
        given = serializer_class(data=data)
        given.fields["branch"].queryset = self.branches()  # type: ignore[attr-defined]
        given.is_valid(raise_exception=True)
        return dict(given.validated_data)

    def overview(self) -> WeeklyOffDaysOverview:
        return selectors.weekly_off_days_overview(visible_branch_ids=self.visible_branch_ids())


class HolidayListView(CalendarApiView):
    @extend_schema(
        operation_id="calendar_holidays_list",
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="Default: the business date's year."),
            OpenApiParameter(
                "branch", OpenApiTypes.INT, description="Only every branch's holidays and this branch's."
            ),
        ],
        responses=HolidaySerializer(many=True),
        summary="The holidays of a year, yearly ones on their date in it",
    )
    def get(self, request: Request) -> Response:
        query = HolidayListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        branch = self.branch(query.validated_data.get("branch"))
        found = selectors.holidays_in_year(
            year=query.validated_data.get("year") or workspace_business_date().year,
            visible_branch_ids=self.visible_branch_ids(),
            branch_id=branch.pk if branch is not None else None,
        )
        return Response(HolidaySerializer(found, many=True).data)

    @extend_schema(
        operation_id="calendar_holidays_create",
        request=HolidayInSerializer,
        responses={201: HolidaySerializer},
        summary="Add a holiday for every branch or one",
        description="Refused with holiday_exists (409) when the branch (or every branch) already has a "
        "holiday on that date, a yearly one included.",
    )
    def post(self, request: Request) -> Response:
        data = self.writer_input(HolidayInSerializer, request.data)
        holiday = services.holiday_create(
            actor=request.user,
            day=data["day"],
            name=data["name"],
            branch=data["branch"],
            every_year=data["every_year"],
        )
        return Response(_one(holiday), status=status.HTTP_201_CREATED)


def _one(holiday: Holiday) -> dict[str, Any]:
    return dict(HolidaySerializer(HolidayOccurrence(holiday=holiday, on=holiday.day)).data)


class HolidayDetailView(CalendarApiView):
    def holiday(self, holiday_id: int) -> Holiday:
        holiday = selectors.holiday_visible(
            holiday_id=holiday_id, visible_branch_ids=self.visible_branch_ids()
        )
        if holiday is None:
            raise Http404
        return holiday

    @extend_schema(operation_id="calendar_holidays_retrieve", responses=HolidaySerializer)
    def get(self, request: Request, holiday_id: int) -> Response:
        return Response(_one(self.holiday(holiday_id)))

    @extend_schema(
        operation_id="calendar_holidays_delete",
        request=None,
        responses={204: None},
        summary="Remove a holiday (a yearly one from every year)",
    )
    def delete(self, request: Request, holiday_id: int) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        holiday = self.holiday(holiday_id)
        services.holiday_delete(actor=request.user, holiday_id=holiday.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WeeklyOffDaysView(CalendarApiView):
    @extend_schema(operation_id="calendar_weekly_off_days_retrieve", responses=WeeklyOffDaysSerializer)
    def get(self, request: Request) -> Response:
        return Response(WeeklyOffDaysSerializer(self.overview()).data)

    @extend_schema(
        operation_id="calendar_weekly_off_days_set",
        request=WeeklyOffDaysInSerializer,
        responses=WeeklyOffDaysSerializer,
        summary="Set the cooperative's weekly off-days, or one branch's own",
        description="Refused with weekdays_invalid for a number outside 0-6 or all seven days.",
    )
    def put(self, request: Request) -> Response:
        data = self.writer_input(WeeklyOffDaysInSerializer, request.data)
        services.weekly_off_days_set(actor=request.user, weekdays=data["weekdays"], branch=data["branch"])
        return Response(WeeklyOffDaysSerializer(self.overview()).data)


class WorkingDaysView(CalendarApiView):
    @extend_schema(
        operation_id="calendar_working_days",
        parameters=[
            OpenApiParameter(
                "branch", OpenApiTypes.INT, description="Absent: the cooperative's calendar, no branch's own."
            ),
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
        ],
        responses=WorkingCalendarSerializer,
        summary="The weekly off-days and holidays a branch keeps between two dates",
        description="What repayment schedules are built on: a due date on a day off moves to the next "
        "working day. Refused with calendar_range_invalid when the start is after the end or the span "
        f"is {selectors.MAX_CALENDAR_YEARS} years or more.",
    )
    def get(self, request: Request) -> Response:
        query = WorkingDaysQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        branch = self.branch(query.validated_data.get("branch"))
        start: dt.date = query.validated_data["start"]
        end: dt.date = query.validated_data["end"]
        calendar = selectors.working_calendar(branch=branch, start=start, end=end)
        data = {
            "branch": branch.pk if branch is not None else None,
            "start": start,
            "end": end,
            "weekly_off_days": sorted(calendar.weekly_off_days),
            "holidays": sorted(calendar.holidays),
        }
        return Response(WorkingCalendarSerializer(data).data)
