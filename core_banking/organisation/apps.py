from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    name = "core_banking.organisation"
    label = "organisation"
    verbose_name = "Organisation"
