from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "core_banking.reporting"
    label = "reporting"
    verbose_name = "Reports"
