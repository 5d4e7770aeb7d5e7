"""Create a vendor operations console operator, or reset a lost second factor.

    manage.py create_console_operator alice --email alice@example.com
        prints a one-time link where alice chooses a password (then enrols 2FA)
    echo 'long secret phrase' | manage.py create_console_operator alice --password-stdin
        sets the password read from standard input (first line)
    manage.py create_console_operator alice --reset-2fa
        removes alice's authenticator devices: her next log-in enrols a new one

Exits non-zero with a message on bad input (taken user name, weak or empty password, unknown user).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from control_plane.console import services
from control_plane.errors import BusinessRuleViolation
from tenants.db import in_public_schema


def _failure(exc: BusinessRuleViolation) -> CommandError:
    details = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in exc.fields.items())
    return CommandError(f"{exc.message} {('(' + details + ')') if details else ''}".strip())


class Command(BaseCommand):
    help = "Create an operations console operator (vendor staff, public schema) or reset their 2FA."
    # call_command(..., stdin=...) in tests, as createsuperuser allows.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="the operator's e-mail address")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input instead of printing an enrolment link",
        )
        parser.add_argument(
            "--reset-2fa",
            action="store_true",
            help="for an existing operator: remove their authenticator devices (lost phone)",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="the console's address for the link (default: the bare domain from the settings)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not in_public_schema():
            raise CommandError("Console operators live in the public schema; run this without a tenant.")
        username = str(options["username"]).strip()
        if options["reset_2fa"]:
            try:
                removed = services.operator_devices_reset(username=username, actor_label="manage.py")
            except BusinessRuleViolation as exc:
                raise _failure(exc) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    f"Removed {removed} device(s) of {username}; the next log-in enrols a new one."
                )
            )
            return
        email = str(options["email"]).strip()
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise CommandError(f"Not an e-mail address: {email!r}") from exc
        password: str | None = None
        if options["password_stdin"]:
            stdin = options.get("stdin") or sys.stdin
            password = stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        try:
            operator = services.console_operator_create(
                username=username, email=email, password=password, created_by="manage.py"
            )
        except BusinessRuleViolation as exc:
            raise _failure(exc) from exc
        if password is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Console operator {username} created. At the first log-in ({services.console_base_url()}"
                    "/console/login/) they set up their authenticator app."
                )
            )
            return
        link = services.enrolment_link(operator, base_url=options["base_url"] or services.console_base_url())
        self.stdout.write(self.style.SUCCESS(f"Console operator {username} created."))
        self.stdout.write(
            "Send them this one-time link (it sets their password, then their authenticator app):"
        )
        self.stdout.write(link)
