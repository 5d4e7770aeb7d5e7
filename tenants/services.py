"""Provisioning: the one way a cooperative's workspace comes into being.

A workspace schema is cloned from the migrated template schema (``TENANT_BASE_SCHEMA``),
which ``migrate_schemas`` keeps current like any other tenant. Provisioning never falls back
to running every migration: a missing or outdated template is an error the operator fixes
with ``manage.py migrate_schemas``. Everything happens in one database transaction; PostgreSQL
DDL is transactional, so a failure at any step leaves no schema, no tenant row and no domain.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale
from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_context, schema_exists, tenant_context

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from tenants.db import NO_CURRENCY
from tenants.models import Cooperative, Domain, Lifecycle
from tenants.presets import preset_for

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED_SLUGS = frozenset(
    {
        "www", "api", "app", "admin", "ops", "console", "static", "media", "mail", "smtp", "status",
        "help", "support", "billing", "signup", "login", "public", "template", "workspace-template",
        "test", "demo-template", "coopcore",
    }
)  # fmt: skip


@dataclass(frozen=True)
class CooperativeSpec:
    name: str
    slug: str
    country: str
    currency: str = ""
    default_language: str = ""
    time_zone: str = ""
    registration_number: str = ""
    use_native_digits: bool | None = None
    head_office_name: str = ""


@dataclass(frozen=True)
class AdminSpec:
    username: str
    password: str | None
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    # A password already hashed elsewhere (the one chosen at online sign-up), used as it is.
    password_hash: str | None = None


def schema_name_for(slug: str) -> str:
    return "coop_" + slug.replace("-", "_")


def domain_for(slug: str) -> str:
    return f"{slug}.{settings.COOPCORE_DOMAIN_SUFFIX}"


def workspace_url(cooperative: Cooperative) -> str:
    domain = domain_for(cooperative.slug)
    port = settings.COOPCORE_PUBLIC_PORT
    scheme = "http" if settings.DEBUG or not settings.CONFIG.is_production else "https"
    return f"{scheme}://{domain}{':' + port if port else ''}/"


# --- Validation ----------------------------------------------------------------------------------


def _completed(spec: CooperativeSpec) -> CooperativeSpec:
    preset = preset_for(spec.country)
    return CooperativeSpec(
        name=spec.name.strip(),
        slug=spec.slug.strip().lower(),
        country=spec.country.strip().upper(),
        currency=(spec.currency or preset.currency).strip().upper(),
        default_language=(spec.default_language or preset.language).strip().lower(),
        time_zone=(spec.time_zone or preset.time_zone).strip(),
        registration_number=spec.registration_number.strip(),
        use_native_digits=preset.use_native_digits
        if spec.use_native_digits is None
        else spec.use_native_digits,
        head_office_name=spec.head_office_name.strip() or preset.head_office_name,
    )


def _known_territories() -> frozenset[str]:
    return frozenset(Locale("en").territories)


def validate_spec(spec: CooperativeSpec) -> CooperativeSpec:
    """Complete the spec from the country preset and check every field; raise with all problems at once."""
    spec = _completed(spec)
    problems: dict[str, list[str]] = {}
    codes: list[ErrorCode] = []

    def fail(field: str, code: ErrorCode, message: str) -> None:
        problems.setdefault(field, []).append(message)
        codes.append(code)

    if not spec.name:
        fail("name", ErrorCode.VALIDATION_ERROR, "A name is required.")
    if not SLUG_PATTERN.match(spec.slug):
        fail("slug", ErrorCode.SLUG_INVALID, "3-40 characters: lowercase letters, digits and hyphens.")
    elif spec.slug in RESERVED_SLUGS:
        fail("slug", ErrorCode.SLUG_RESERVED, "This subdomain is reserved.")
    elif Cooperative.objects.filter(slug=spec.slug).exists() or schema_exists(schema_name_for(spec.slug)):
        fail("slug", ErrorCode.SLUG_TAKEN, "This subdomain is taken.")
    if spec.country not in _known_territories() or not spec.country.isalpha():
        fail("country", ErrorCode.COUNTRY_UNKNOWN, "Use an ISO 3166 two-letter country code.")
    if spec.currency not in list_currencies():
        fail("currency", ErrorCode.CURRENCY_UNKNOWN, "Use an ISO 4217 currency code.")
    if spec.default_language not in {code for code, _name in settings.LANGUAGES}:
        fail("default_language", ErrorCode.LANGUAGE_UNSUPPORTED, "Supported: en, bn, vi, th.")
    if spec.time_zone not in zoneinfo.available_timezones():
        fail("time_zone", ErrorCode.TIME_ZONE_UNKNOWN, "Use an IANA time zone such as Asia/Dhaka.")
    if problems:
        # One code for the response: the first rule broken (the fields carry the rest).
        raise BusinessRuleViolation(codes[0], "The cooperative cannot be created as given.", fields=problems)
    return spec


# --- The template schema -------------------------------------------------------------------------


@cache
def _tenant_app_labels() -> frozenset[str]:
    from django.apps import apps

    labels = set()
    for app_config in apps.get_app_configs():
        if app_config.name in settings.TENANT_APPS:
            labels.add(app_config.label)
    return frozenset(labels)


def expected_tenant_migrations() -> frozenset[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    labels = _tenant_app_labels()
    return frozenset(key for key in loader.disk_migrations if key[0] in labels)


def applied_migrations(schema_name: str) -> frozenset[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT app, name FROM "{schema_name}".django_migrations'  # noqa: S608 - schema name is ours
        )
        return frozenset((app, name) for app, name in cursor.fetchall())


# Cached per process: the migrations on disk do not change while it runs.
_expected_cache: frozenset[tuple[str, str]] | None = None


def template_missing_migrations() -> frozenset[tuple[str, str]] | None:
    """None when the template schema does not exist; else the migrations it still lacks."""
    global _expected_cache  # noqa: PLW0603
    base = settings.TENANT_BASE_SCHEMA
    if not schema_exists(base):
        return None
    if _expected_cache is None:
        _expected_cache = expected_tenant_migrations()
    return _expected_cache - applied_migrations(base)


def template_ensure(*, verbosity: int = 0) -> Cooperative:
    """Create the template workspace (the one schema built by migrations) and bring it up to date.

    ``migrate_schemas`` migrates it with every other tenant afterwards, so it stays current.
    """
    base = settings.TENANT_BASE_SCHEMA
    template = Cooperative.objects.filter(is_template=True).first()
    if template is None:
        template = Cooperative(
            schema_name=base,
            name="Workspace template",
            slug="workspace-template",
            country="ZZ",  # ISO 3166 user-assigned: no country
            currency=NO_CURRENCY,  # the template holds no money
            default_language="en",
            time_zone="UTC",
            lifecycle=Lifecycle.TEMPLATE,
            is_template=True,
        )
        template.save()
    if not schema_exists(base):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{base}"')
    call_command("migrate_schemas", schema_name=base, interactive=False, verbosity=verbosity)
    clone_function_install()
    return template


def require_current_template() -> None:
    missing = template_missing_migrations()
    if missing is None:
        raise BusinessRuleViolation(
            ErrorCode.TEMPLATE_SCHEMA_MISSING,
            "The workspace template schema is missing: run `manage.py migrate_schemas` and "
            "`manage.py ensure_workspace_template`.",
        )
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in sorted(missing)[:5])
        raise BusinessRuleViolation(
            ErrorCode.TEMPLATE_SCHEMA_OUTDATED,
            f"The workspace template lacks migrations ({names}): run `manage.py migrate_schemas`.",
        )


# --- Provisioning --------------------------------------------------------------------------------


def clone_function_install() -> None:
    """(Re)install django-tenants' clone_schema() PL/pgSQL function, as the installed library ships it.

    Done when the template is ensured (every deploy's migrate step), not on every provisioning:
    django-tenants' own clone drops and re-creates the function each time it clones.
    """
    CloneSchema()._create_clone_schema_function()


def _clone_function_present() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('public.clone_schema(text, text, public.cloneparms[])')")
        row = cursor.fetchone()
    return bool(row and row[0])


def clone_into(schema_name: str) -> None:
    """The template's tables, with their rows (migration records, content types), into a new schema."""
    if not _clone_function_present():
        clone_function_install()
    # NOOWNER and NOACL: the template belongs to the application's own database user and carries no
    # grants, so there is nothing to copy; skipping those passes saves about 15 % of a clone.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.clone_schema(%s, %s, 'DATA', 'NOOWNER', 'NOACL')",
            [settings.TENANT_BASE_SCHEMA, schema_name],
        )


def _clone_template(cooperative: Cooperative) -> None:
    """The workspace's schema: a spare renamed into place when one is ready, else a clone now."""
    from tenants.spares import spare_claim

    if not spare_claim(schema_name=cooperative.schema_name):
        clone_into(cooperative.schema_name)


def _seed_workspace(
    cooperative: Cooperative, spec: CooperativeSpec, admin: AdminSpec, actor: Any | None
) -> None:
    from core_banking.ledger.services import chart_of_accounts_seed
    from core_banking.members.services import member_types_seed
    from core_banking.organisation.services import branch_create, weekly_off_days_seed
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create

    chart_of_accounts_seed(language=spec.default_language)
    member_types_seed(language=spec.default_language)
    weekly_off_days_seed(country=spec.country)
    head_office = branch_create(actor=None, code="HO", name=spec.head_office_name, is_head_office=True)
    staff_user_create(
        actor=None,
        username=admin.username,
        password=admin.password,
        password_hash=admin.password_hash,
        email=admin.email,
        first_name=admin.first_name,
        last_name=admin.last_name,
        roles=[Role.COOPERATIVE_ADMIN.value],
        home_branch=head_office,
        all_branches=True,
    )
    audit_record(
        actor=None,
        action="workspace.provision",
        object_type="tenants.cooperative",
        object_id=str(cooperative.pk),
        changes={"provisioned_by": getattr(actor, "username", "system")},
    )


def _create_domain(cooperative: Cooperative) -> Domain:
    return Domain.objects.create(domain=domain_for(cooperative.slug), tenant=cooperative, is_primary=True)


# The system catalogs clone_schema queries; their row counts grow with every workspace.
CLONE_CATALOGS = (
    "pg_class", "pg_index", "pg_attribute", "pg_namespace",
    "pg_depend", "pg_constraint", "pg_attrdef", "pg_type",
)  # fmt: skip


def catalog_statistics_refresh(*, force: bool = False) -> bool:
    """ANALYZE the system catalogs once they have changed by a tenth since their last statistics.

    clone_schema's catalog queries are planned from these statistics. A database that gains
    workspaces faster than autovacuum analyzes (or with autovacuum off) keeps plans made for a
    handful of schemas: at 200 cooperatives that made one clone take 1.3 s instead of 0.3 s.
    Returns whether it analyzed. Where the database user does not own the catalogs (managed
    PostgreSQL), PostgreSQL skips them with a warning and autovacuum remains the only source.
    """
    with connection.cursor() as cursor:
        # Statistics views are read from a snapshot taken once per transaction; take a fresh one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT COALESCE(n_mod_since_analyze, 0), COALESCE(n_live_tup, 0) "
            "FROM pg_stat_sys_tables WHERE schemaname = 'pg_catalog' AND relname = 'pg_class'"
        )
        row = cursor.fetchone()
        changed, live = (int(row[0]), int(row[1])) if row else (0, 0)
        if not force and changed <= max(500, live // 10):
            return False
        cursor.execute("ANALYZE " + ", ".join(f"pg_catalog.{name}" for name in CLONE_CATALOGS))
    return True


def cooperative_provision(
    *, spec: CooperativeSpec, admin: AdminSpec, actor: Any | None = None, lifecycle: str = Lifecycle.TRIAL
) -> Cooperative:
    """Create a cooperative, its workspace schema (a clone of the template), head office, admin and domain.

    All or nothing: on any failure the transaction rolls back the schema, the rows and the domain.
    """
    spec = validate_spec(spec)
    require_current_template()
    try:
        with transaction.atomic():
            cooperative = _provision_in_one_transaction(spec, admin, actor, lifecycle)
    except (IntegrityError, ValidationError) as exc:
        # Two sign-ups for one subdomain at once: the check above passed for both; the unique
        # constraint (or django-tenants' own check on save) lets one through, and the other gets
        # the answer it would have had coming second.
        if Cooperative.objects.filter(slug=spec.slug).exists():
            raise BusinessRuleViolation(
                ErrorCode.SLUG_TAKEN,
                "This subdomain is taken.",
                fields={"slug": ["This subdomain is taken."]},
            ) from exc
        raise
    _spares_refill_after_commit()
    if not connection.in_atomic_block:
        catalog_statistics_refresh()
        # The session's catalog caches now hold every relation the clone touched, and each later DDL
        # statement on this connection pays to invalidate them: reusing it made the next provisioning
        # several times slower (bench/provisioning.py). A fresh connection costs milliseconds.
        connection.close()
    return cooperative


def _spares_refill_after_commit() -> None:
    """The spare this provisioning may have used is replaced in the background, once it commits."""
    if settings.TENANT_SPARE_WORKSPACES <= 0:
        return
    from tenants.tasks import spare_workspaces_refill

    transaction.on_commit(spare_workspaces_refill.delay, robust=True)


def _provision_in_one_transaction(
    spec: CooperativeSpec, admin: AdminSpec, actor: Any | None, lifecycle: str
) -> Cooperative:
    """Tenant row, cloned schema, seed and domain; the caller holds the transaction."""
    cooperative = Cooperative.objects.create(
        schema_name=schema_name_for(spec.slug),
        name=spec.name,
        slug=spec.slug,
        registration_number=spec.registration_number,
        country=spec.country,
        currency=spec.currency,
        default_language=spec.default_language,
        time_zone=spec.time_zone,
        use_native_digits=bool(spec.use_native_digits),
        lifecycle=lifecycle,
    )
    _clone_template(cooperative)
    with tenant_context(cooperative):
        _seed_workspace(cooperative, spec, admin, actor)
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        _create_domain(cooperative)
        audit_record(
            actor=actor,
            action="cooperative.provision",
            target=cooperative,
            changes={"slug": spec.slug, "country": spec.country, "currency": spec.currency},
        )
    return cooperative
