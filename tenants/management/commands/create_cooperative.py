from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from control_plane.errors import BusinessRuleViolation
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision, workspace_url


class Command(BaseCommand):
    help = "Provision a cooperative: clone the template into a new workspace with a head office and an admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--slug", required=True, help="subdomain, e.g. 'rupali' for rupali.<domain suffix>"
        )
        parser.add_argument("--country", required=True, help="ISO 3166 code: BD, VN, TH, ...")
        parser.add_argument("--currency", default="", help="ISO 4217; default from the country")
        parser.add_argument("--language", default="", help="en, bn, vi or th; default from the country")
        parser.add_argument("--time-zone", default="", help="IANA zone; default from the country")
        parser.add_argument("--registration-number", default="")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", default="")
        parser.add_argument(
            "--admin-password",
            default=None,
            help="omit to invite: the admin sets one through password reset (needs --admin-email)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        spec = CooperativeSpec(
            name=options["name"],
            slug=options["slug"],
            country=options["country"],
            currency=options["currency"],
            default_language=options["language"],
            time_zone=options["time_zone"],
            registration_number=options["registration_number"],
        )
        admin = AdminSpec(
            username=options["admin_username"],
            password=options["admin_password"],
            email=options["admin_email"],
        )
        try:
            cooperative = cooperative_provision(spec=spec, admin=admin)
        except BusinessRuleViolation as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
            raise CommandError(f"[{exc.code}] {exc.message} {details}".strip()) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Provisioned {cooperative.name} at {workspace_url(cooperative)}")
        )
