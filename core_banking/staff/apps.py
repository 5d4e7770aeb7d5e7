from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "core_banking.staff"
    label = "staff"
    verbose_name = "Staff and roles"
