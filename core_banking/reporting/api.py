"""JSON API of the reports: ``GET /api/v1/reports/`` lists them, ``GET /api/v1/reports/<slug>/`` runs one.

One view class per registered report, so that the OpenAPI schema documents each report's own
parameters and result. Amounts are integer minor units; ``currency_exponent`` says where the decimal
point goes (BDT 2, VND 0).
"""

from __future__ import annotations

import functools
from typing import Any

from babel.numbers import get_currency_precision
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.reporting.access import branch_set_resolve, reporting_profile
from core_banking.reporting.registry import REPORTS, Parameter, ReportQuery, ReportSpec
from core_banking.reporting.serializers import dataclass_serializer
from tenants.db import current_cooperative

_PARAMETER_HELP = {
    Parameter.AS_OF: "The date the balances are taken at (end of day), YYYY-MM-DD.",
    Parameter.START: "First day of the period, YYYY-MM-DD.",
    Parameter.END: "Last day of the period (or the date of the balances), YYYY-MM-DD.",
    Parameter.DAY: "The value date of the entries, YYYY-MM-DD.",
    Parameter.ACCOUNT: "Account code, e.g. 1100-HO.",
    Parameter.MEMBER: "Member number, e.g. HO-000001; the member must be of one of the branches asked for.",
    Parameter.GROUP: "Group code; the group must be of one of the branches asked for.",
}
_BRANCH_HELP = (
    "Branch id; repeat for several (branch=3&branch=5). Omit for all branches, consolidated, which "
    "only staff who see every branch may ask for."
)


def _camel(slug: str) -> str:
    return "".join(part.title() for part in slug.split("-"))


@functools.cache
def query_serializer_for(slug: str) -> type[serializers.Serializer[Any]]:
    """The report's query parameters (one class per report, so the schema names each once)."""
    spec = REPORTS[slug]
    fields: dict[str, serializers.Field[Any, Any, Any, Any]] = {}
    for parameter in spec.parameters:
        required = spec.required(parameter)
        if parameter == Parameter.ACCOUNT:
            fields[parameter.value] = serializers.CharField(
                max_length=20, required=required, help_text=_PARAMETER_HELP[parameter]
            )
        elif parameter in (Parameter.MEMBER, Parameter.GROUP):
            fields[parameter.value] = serializers.CharField(
                max_length=40, required=required, help_text=_PARAMETER_HELP[parameter]
            )
        else:
            fields[parameter.value] = serializers.DateField(
                required=required, help_text=_PARAMETER_HELP[parameter]
            )
    fields["branch"] = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text=_BRANCH_HELP
    )
    return type(f"{_camel(spec.slug)}QuerySerializer", (serializers.Serializer,), fields)


@functools.cache
def response_serializer_for(slug: str) -> type[serializers.Serializer[Any]]:
    spec = REPORTS[slug]
    fields: dict[str, Any] = {
        "report": serializers.CharField(),
        "title": serializers.CharField(),
        "cooperative": serializers.CharField(),
        "currency": serializers.CharField(),
        "currency_exponent": serializers.IntegerField(),
        "consolidated": serializers.BooleanField(),
        "branch_ids": serializers.ListField(child=serializers.IntegerField(), allow_null=True),
        "produced_at": serializers.DateTimeField(),
        "data": dataclass_serializer(spec.result_type)(),
    }
    return type(f"{_camel(spec.slug)}ReportSerializer", (serializers.Serializer,), fields)


ErrorSerializer = inline_serializer(
    name="ReportError",
    fields={
        "error": inline_serializer(
            name="ReportErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)

_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="validation_error (a parameter is missing or malformed), report_period_invalid, "
        "report_branch_unknown, account_unknown, report_member_unknown, report_group_unknown, "
        "report_too_large",
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="not_authenticated, permission_denied (no report access), report_branch_forbidden, "
        "report_consolidated_forbidden",
    ),
}


class ReportView(APIView):
    spec: ReportSpec[Any]

    def get(self, request: Request) -> Response:
        spec = self.spec
        profile = reporting_profile(request.user)
        parameters = query_serializer_for(spec.slug)(data=request.query_params)
        parameters.is_valid(raise_exception=True)
        data = parameters.validated_data
        query = ReportQuery(
            branch_set=branch_set_resolve(profile=profile, branch_ids=data.get("branch")),
            as_of=data.get(Parameter.AS_OF.value),
            start=data.get(Parameter.START.value),
            end=data.get(Parameter.END.value),
            day=data.get(Parameter.DAY.value),
            account=data.get(Parameter.ACCOUNT.value),
            member=data.get(Parameter.MEMBER.value),
            group=data.get(Parameter.GROUP.value),
        )
        cooperative = current_cooperative()
        if cooperative is None:
            raise BusinessRuleViolation(ErrorCode.NOT_FOUND, "No cooperative here.")
        body = {
            "report": spec.slug,
            "title": str(spec.title),
            "cooperative": cooperative.name,
            "currency": cooperative.currency,
            "currency_exponent": get_currency_precision(cooperative.currency),
            "consolidated": query.branch_set.consolidated,
            "branch_ids": query.branch_ids,
            "produced_at": timezone.now(),
            "data": spec.run(query),
        }
        return Response(response_serializer_for(spec.slug)(body).data)


def report_view_for(spec: ReportSpec[Any]) -> Any:
    view: type[ReportView] = type(
        f"{_camel(spec.slug)}ReportView", (ReportView,), {"spec": spec, "__doc__": str(spec.description)}
    )
    # Annotate this class's own copy of ``get`` (an operation_id on the class would apply to every method).
    schema = extend_schema_view(
        get=extend_schema(
            operation_id=f"reports_{spec.slug.replace('-', '_')}",
            summary=str(spec.title),
            description=str(spec.description),
            tags=["reports"],
            parameters=[query_serializer_for(spec.slug)],
            responses={200: response_serializer_for(spec.slug), **_ERRORS},
        )
    )
    return schema(view).as_view()


class ReportListView(APIView):
    @extend_schema(
        operation_id="reports_list",
        summary="The reports this workspace offers",
        tags=["reports"],
        responses={
            200: inline_serializer(
                name="ReportListItem",
                many=True,
                fields={
                    "slug": serializers.CharField(),
                    "title": serializers.CharField(),
                    "description": serializers.CharField(),
                    "parameters": serializers.ListField(child=serializers.CharField()),
                    "required": serializers.ListField(child=serializers.CharField()),
                },
            ),
            403: _ERRORS[403],
        },
    )
    def get(self, request: Request) -> Response:
        reporting_profile(request.user)
        return Response(
            [
                {
                    "slug": spec.slug,
                    "title": str(spec.title),
                    "description": str(spec.description),
                    "parameters": [*(parameter.value for parameter in spec.parameters), "branch"],
                    "required": [
                        parameter.value for parameter in spec.parameters if spec.required(parameter)
                    ],
                }
                for spec in REPORTS.values()
            ]
        )
