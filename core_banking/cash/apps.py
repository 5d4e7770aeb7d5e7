from django.apps import AppConfig


class CashConfig(AppConfig):
    name = "core_banking.cash"
    label = "cash"
    verbose_name = "Cash custody"
