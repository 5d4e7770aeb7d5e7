"""Provisioning a cooperative: clone path, validation, template checks, all-or-nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from tenants import services
from tenants.models import Cooperative, Domain
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

pytestmark = pytest.mark.django_db

ADMIN = AdminSpec(username="founder", password="long-enough-password-1", email="founder@example.org")


def _spec(slug: str = "gamma", **overrides: object) -> CooperativeSpec:
    values: dict[str, object] = {"name": "Gamma Samity", "slug": slug, "country": "BD"}
    values.update(overrides)
    return CooperativeSpec(**values)  # type: ignore[arg-type]


def _nothing_left(slug: str) -> None:
    assert not Cooperative.objects.filter(slug=slug).exists()
    assert not Domain.objects.filter(domain=f"{slug}.{settings.COOPCORE_DOMAIN_SUFFIX}").exists()
    assert not schema_exists(services.schema_name_for(slug))


def test_provision_clones_the_template_and_seeds_the_workspace() -> None:
    cooperative = cooperative_provision(spec=_spec(), admin=ADMIN)

    assert cooperative.schema_name == "coop_gamma"
    assert (cooperative.currency, cooperative.default_language, cooperative.time_zone) == (
        "BDT", "bn", "Asia/Dhaka",
    )  # fmt: skip
    assert cooperative.use_native_digits is True
    assert Domain.objects.get(tenant=cooperative).domain == "gamma.localhost"
    # The schema has exactly the template's migrations: it was cloned, not migrated afresh.
    assert services.applied_migrations("coop_gamma") == services.applied_migrations(
        settings.TENANT_BASE_SCHEMA
    )
    with tenant_context(cooperative):
        head_office = Branch.objects.get()
        assert head_office.is_head_office and head_office.code == "HO"
        admin = User.objects.get()
        assert admin.username == "founder" and admin.check_password("long-enough-password-1")
        assert StaffProfile.objects.get(user=admin).roles == ["cooperative_admin"]
        assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
            "branch.create", "staff.create", "workspace.provision",
        ]  # fmt: skip
    assert AuditEvent.objects.filter(action="cooperative.provision", object_id=str(cooperative.pk)).exists()


def test_provision_defaults_follow_the_country_preset() -> None:
    cooperative = cooperative_provision(spec=_spec("delta", country="VN", name="Delta"), admin=ADMIN)
    assert (cooperative.currency, cooperative.default_language, cooperative.time_zone) == (
        "VND", "vi", "Asia/Ho_Chi_Minh",
    )  # fmt: skip


@pytest.mark.parametrize("failing_step", ["_seed_workspace", "_create_domain"])
def test_failure_half_way_leaves_nothing(monkeypatch: pytest.MonkeyPatch, failing_step: str) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"injected failure in {failing_step}")

    monkeypatch.setattr(services, failing_step, explode)
    with pytest.raises(RuntimeError, match="injected failure"):
        cooperative_provision(spec=_spec("halfway"), admin=ADMIN)
    _nothing_left("halfway")
    assert connection.schema_name == "public"


def test_failure_inside_the_clone_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema already exists when the admin's password is refused: it must go too."""
    with pytest.raises(BusinessRuleViolation) as raised:
        cooperative_provision(spec=_spec("weakpass"), admin=AdminSpec(username="x", password="123"))
    assert raised.value.fields["password"]
    _nothing_left("weakpass")


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"slug": "A!"}, "slug", ErrorCode.SLUG_INVALID),
        ({"slug": "www"}, "slug", ErrorCode.SLUG_RESERVED),
        ({"slug": "alpha"}, "slug", ErrorCode.SLUG_TAKEN),
        ({"currency": "XYZ"}, "currency", ErrorCode.CURRENCY_UNKNOWN),
        ({"country": "QQ"}, "country", ErrorCode.COUNTRY_UNKNOWN),
        ({"default_language": "fr"}, "default_language", ErrorCode.LANGUAGE_UNSUPPORTED),
        ({"time_zone": "Mars/Olympus"}, "time_zone", ErrorCode.TIME_ZONE_UNKNOWN),
        ({"name": "  "}, "name", ErrorCode.VALIDATION_ERROR),
    ],
)
def test_bad_input_is_refused_with_a_code_and_field_message(
    overrides: dict[str, str], field: str, code: ErrorCode
) -> None:
    spec = _spec(**{"slug": "epsilon", **overrides})
    with pytest.raises(BusinessRuleViolation) as raised:
        cooperative_provision(spec=spec, admin=ADMIN)
    assert raised.value.code == code
    assert raised.value.fields[field]
    if overrides.get("slug") != "alpha":
        _nothing_left(spec.slug.lower())


def test_missing_template_is_an_error_never_a_migrate_fallback(settings: pytest.FixtureRequest) -> None:
    settings.TENANT_BASE_SCHEMA = "no_such_template"  # type: ignore[attr-defined]
    with pytest.raises(BusinessRuleViolation) as raised:
        cooperative_provision(spec=_spec("zeta"), admin=ADMIN)
    assert raised.value.code == ErrorCode.TEMPLATE_SCHEMA_MISSING
    _nothing_left("zeta")


def test_outdated_template_is_an_error() -> None:
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM \"{template}\".django_migrations WHERE app = 'staff'")
    with pytest.raises(BusinessRuleViolation) as raised:
        cooperative_provision(spec=_spec("eta"), admin=ADMIN)
    assert raised.value.code == ErrorCode.TEMPLATE_SCHEMA_OUTDATED
    assert "staff.0001_initial" in raised.value.message
    _nothing_left("eta")


def test_template_is_kept_current_by_migrate_schemas() -> None:
    template = Cooperative.objects.get(is_template=True)
    assert template.schema_name == settings.TENANT_BASE_SCHEMA
    assert services.template_missing_migrations() == frozenset()
    # migrate_schemas visits every tenant row, the template included.
    call_command("migrate_schemas", "--tenant", verbosity=0)
    assert services.template_missing_migrations() == frozenset()


def test_create_cooperative_command(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "create_cooperative", name="Theta Savings", slug="theta", country="TH", admin_username="boss",
        admin_password="long-enough-password-1",
    )  # fmt: skip
    assert "http://theta.localhost:8000/" in capsys.readouterr().out
    cooperative = Cooperative.objects.get(slug="theta")
    assert (cooperative.currency, cooperative.default_language) == ("THB", "th")


def test_create_cooperative_command_refuses_bad_input() -> None:
    with pytest.raises(CommandError, match=r"\[slug_reserved\].*slug: This subdomain is reserved"):
        call_command("create_cooperative", name="X", slug="admin", country="BD", admin_username="boss")


def test_catalog_statistics_are_refreshed_only_when_the_catalogs_changed_enough() -> None:
    assert services.catalog_statistics_refresh(force=True) is True
    # Just analyzed: nothing has changed by a tenth since.
    assert services.catalog_statistics_refresh() is False


def test_a_lost_race_for_a_subdomain_answers_slug_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both sign-ups passed the availability check; the database lets one through."""
    checked = services.validate_spec(_spec("race"))
    first = cooperative_provision(spec=_spec("race"), admin=ADMIN)
    monkeypatch.setattr(
        services, "validate_spec", lambda spec: checked
    )  # the second checked before the first
    with pytest.raises(BusinessRuleViolation) as raised:
        cooperative_provision(spec=_spec("race"), admin=ADMIN)
    assert raised.value.code == ErrorCode.SLUG_TAKEN
    assert list(Cooperative.objects.filter(slug="race")) == [first]
