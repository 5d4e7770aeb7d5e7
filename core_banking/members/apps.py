from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "core_banking.members"
    label = "members"
    verbose_name = "Members"
