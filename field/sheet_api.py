"""Downloads of the field app, with the device's token: the day's collection sheet and the whole book."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability
from field import sheets
from field.auth import DeviceTokenAuthentication
from tenants.db import workspace_business_date


class SheetQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="The meeting day; the business date if left out.")


class LoanLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    due_today_minor = serializers.IntegerField(help_text="Unpaid of the instalments due on the day.")
    overdue_minor = serializers.IntegerField(help_text="Unpaid of the instalments due before the day.")
    instalment_minor = serializers.IntegerField(help_text="The instalment due on the day, or the next one.")
    outstanding_minor = serializers.IntegerField(help_text="Unpaid of every instalment of the schedule.")


class SavingsLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    product = serializers.CharField()
    balance_minor = serializers.IntegerField()
    available_minor = serializers.IntegerField(help_text="The balance less liens: what may be withdrawn.")
    savings_instalment_minor = serializers.IntegerField(allow_null=True)


class MemberLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField()
    group = serializers.IntegerField()
    loans = LoanLineSerializer(many=True)
    savings = SavingsLineSerializer(many=True)


class LeaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()


class GroupSheetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    meeting_weekday = serializers.IntegerField(help_text="0 Monday … 6 Sunday.")
    meeting_place = serializers.CharField()
    leader = LeaderSerializer(allow_null=True)
    members = MemberLineSerializer(many=True)


class CurrencySerializer(serializers.Serializer):
    code = serializers.CharField(source="currency")
    exponent = serializers.IntegerField(help_text="Decimal places of the minor unit (VND 0, BDT 2).")


class FieldSheetSerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    business_date = serializers.DateField()
    currency = CurrencySerializer(source="*")
    groups = GroupSheetSerializer(many=True)


class SheetView(StaffApiView):
    authentication_classes = [DeviceTokenAuthentication]

    @extend_schema(
        operation_id="field_sheet",
        parameters=[OpenApiParameter("date", str, description="YYYY-MM-DD; the business date if left out")],
        responses={200: FieldSheetSerializer},
        summary="The collection sheet of each of the collector's groups meeting on the day",
    )
    def get(self, request: Request) -> Response:
        profile = self.require(Capability.COLLECT_IN_FIELD)
        given = SheetQuerySerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        day = given.validated_data.get("date") or workspace_business_date()
        return Response(FieldSheetSerializer(sheets.collection_sheet(profile=profile, day=day)).data)


class BookView(StaffApiView):
    authentication_classes = [DeviceTokenAuthentication]

    @extend_schema(
        operation_id="field_book",
        responses={200: FieldSheetSerializer},
        summary="Every member of the collector's groups, as of the business date, for search offline",
    )
    def get(self, request: Request) -> Response:
        profile = self.require(Capability.COLLECT_IN_FIELD)
        return Response(FieldSheetSerializer(sheets.collector_book(profile=profile)).data)
