from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "core_banking.accounting"
    label = "accounting"
    verbose_name = "Accounting"
