"""REST API of the reporting module (mounted under /api/v1/): one endpoint per registered report."""

from django.urls import URLPattern, URLResolver, path

from core_banking.reporting.api import ReportListView, report_view_for
from core_banking.reporting.registry import REPORTS

urlpatterns: list[URLPattern | URLResolver] = [
    path("reports/", ReportListView.as_view(), name="api_reports"),
    *(
        path(f"reports/{spec.slug}/", report_view_for(spec), name=f"api_report_{spec.slug.replace('-', '_')}")
        for spec in REPORTS.values()
    ),
]
