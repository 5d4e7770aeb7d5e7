from django.apps import AppConfig


class SharesConfig(AppConfig):
    name = "core_banking.shares"
    label = "shares"
    verbose_name = "Share capital"
