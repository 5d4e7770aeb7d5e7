"""REST API of the lending module (mounted under /api/v1/)."""

from django.urls import path

from core_banking.lending import api

urlpatterns = [
    path("lending/schedule-preview/", api.SchedulePreviewView.as_view(), name="api_lending_schedule_preview"),
    path("lending/products/", api.ProductListView.as_view(), name="api_lending_products"),
    path("lending/products/<int:product_id>/", api.ProductDetailView.as_view(), name="api_lending_product"),
    path(
        "lending/products/<int:product_id>/rates/", api.ProductRatesView.as_view(), name="api_lending_rates"
    ),
    path(
        "lending/products/<int:product_id>/limit-rules/",
        api.ProductLimitRulesView.as_view(),
        name="api_lending_limit_rules",
    ),
    path("lending/sub-types/", api.SubTypeListView.as_view(), name="api_lending_sub_types"),
    path("lending/approval-levels/", api.ApprovalLevelsView.as_view(), name="api_lending_approval_levels"),
    path("lending/eligibility/", api.EligibilityView.as_view(), name="api_lending_eligibility"),
    path("lending/applications/", api.ApplicationListView.as_view(), name="api_lending_applications"),
    path(
        "lending/applications/<int:application_id>/",
        api.ApplicationDetailView.as_view(),
        name="api_lending_application",
    ),
    path(
        "lending/applications/<int:application_id>/decisions/",
        api.ApplicationDecisionView.as_view(),
        name="api_lending_decide",
    ),
    path(
        "lending/applications/<int:application_id>/disburse/",
        api.ApplicationDisburseView.as_view(),
        name="api_lending_disburse",
    ),
    path("lending/loans/", api.LoanListView.as_view(), name="api_lending_loans"),
    path("lending/loans/<int:loan_id>/", api.LoanDetailView.as_view(), name="api_lending_loan"),
    path("lending/loans/<int:loan_id>/payoff/", api.LoanPayoffView.as_view(), name="api_lending_payoff"),
    path(
        "lending/loans/<int:loan_id>/repayments/", api.LoanRepaymentView.as_view(), name="api_lending_repay"
    ),
    path(
        "lending/document-templates/",
        api.DocumentTemplateListView.as_view(),
        name="api_lending_document_templates",
    ),
    path(
        "lending/document-templates/<str:kind>/<str:language>/",
        api.DocumentTemplateView.as_view(),
        name="api_lending_document_template",
    ),
]
