from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "core_banking.lending"
    label = "lending"
    verbose_name = "Lending"

    def ready(self) -> None:
        # Exit blockers: a member who owes on a loan or stands behind a live one may not exit.
        from core_banking.lending import exit_rules
        from core_banking.lending.reschedule import (
            reschedule_for_calendar_change,
            reschedule_for_meeting_day_change,
        )
        from core_banking.members import group_listeners
        from core_banking.organisation import calendar_listeners

        exit_rules.register()
        # A holiday added later, or new days off, moves live loans' future due dates.
        calendar_listeners.register(reschedule_for_calendar_change)
        # A group meeting on another day moves its members' weekly samity loans to that day.
        group_listeners.register(reschedule_for_meeting_day_change)
