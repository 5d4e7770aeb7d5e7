from django.apps import AppConfig


class SavingsConfig(AppConfig):
    name = "core_banking.savings"
    label = "savings"
    verbose_name = "Savings"
