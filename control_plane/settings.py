"""Django settings for CoopCore. Values come from ``control_plane.env`` only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from control_plane import env as environment
from control_plane.observability import configure_logging, init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = environment.load()
if CONFIG.problems:
    raise ImproperlyConfigured(
        "The production profile refuses to start:\n  - " + "\n  - ".join(CONFIG.problems)
    )

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
COOPCORE_DOMAIN_SUFFIX = CONFIG.domain_suffix
# The port workspaces are reached on in development (<slug>.localhost:8000); empty behind a proxy.
COOPCORE_PUBLIC_PORT = "" if CONFIG.is_production else "8000"

# --- Tenancy -------------------------------------------------------------------------------------
# Apps in SHARED_APPS get tables in the public schema (the control plane); apps in TENANT_APPS
# get tables in every cooperative's schema. auth, contenttypes, sessions, identity, audit and axes
# are in both: staff users live in their cooperative's schema, vendor staff in the public one.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "billing",
    "onboarding",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "control_plane.identity",
    "control_plane.audit",
    "control_plane.console",
    "control_plane.backups",
    # The operations console's second factor (TOTP). Public schema only: vendor staff are the only
    # users with devices, and no workspace request ever reads these tables (no OTPMiddleware: the
    # console's own decorator checks the session's verified device; control_plane/console/auth.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "frontend",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "control_plane.identity",
    "control_plane.audit",
    "axes",
    # API tokens live in each workspace's schema: a token exists only in its own cooperative.
    "rest_framework.authtoken",
    "core_banking.organisation",
    "core_banking.staff",
    "core_banking.ledger",
    "core_banking.members",
    "core_banking.savings",
    "core_banking.shares",
    "core_banking.reporting",
    "core_banking.accounting",
    "core_banking.cash",
    "core_banking.lending",
    "notifications",
    "field",
    "imports",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Cooperative"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New workspaces are cloned from a migrated template schema; migrate_schemas keeps it current.
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_BASE_SCHEMA = "workspace_template"
PUBLIC_SCHEMA_NAME = "public"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
ROOT_URLCONF = "control_plane.urls_workspace"
PUBLIC_SCHEMA_URLCONF = "control_plane.urls_public"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Send `SET search_path` only when the workspace changes, not before every statement (it doubled
# the round trips of every posting). django-tenants forgets the cached path on set_tenant, close,
# rollback and savepoint rollback, the points where PostgreSQL may have discarded it.
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

MIDDLEWARE = [
    "tenants.routing.WorkspaceRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "control_plane.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "control_plane.middleware.WorkspaceLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core_banking.staff.middleware.ReadOnlyRoleMiddleware",
    "core_banking.staff.middleware.GroupLeaderScopeMiddleware",
    # After the session and the user: a read-only workspace still lets people log in and read.
    "tenants.access.WorkspaceStateMiddleware",
    "axes.middleware.AxesMiddleware",
]

if CONFIG.is_production:
    # Development serves static files through runserver; production through WhiteNoise.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.workspace",
            ],
        },
    }
]

WSGI_APPLICATION = "control_plane.wsgi.application"
ASGI_APPLICATION = "control_plane.asgi.application"

_database = environ.Env.db_url_config(CONFIG.database_url)
# A Unix-socket directory arrives percent-encoded in the URL's host (postgres://user@%2Fpath/db).
_database["HOST"] = unquote(str(_database.get("HOST", "")))
_database["ENGINE"] = "django_tenants.postgresql_backend"
_database["CONN_MAX_AGE"] = 0 if DEBUG else 60
_database["CONN_HEALTH_CHECKS"] = True
# Django's own queries bind on the client and are never prepared. The ledger's hot statements run
# on server-binding cursors that ask for preparation (core_banking/ledger/db.py); psycopg honours
# that only when the connection has a threshold (Django's default None turns preparing off).
_database.setdefault("OPTIONS", {})["prepare_threshold"] = 5
_database.setdefault("TEST", {})["NAME"] = "test_" + str(_database["NAME"])
DATABASES = {"default": _database}

# --- Authentication ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Lock a user name + client address out after five failures, for fifteen minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# X-Forwarded-For is believed only behind the TLS proxy (which overwrites it); otherwise a client
# could pick a new address for every guess.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if CONFIG.tls_proxy_header else ["REMOTE_ADDR"]
)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Host-only cookies: a workspace's session cookie is never sent to another subdomain.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_AGE = 60 * 60 * 12

if CONFIG.tls_proxy_header:
    SECURE_PROXY_SSL_HEADER = CONFIG.tls_proxy_header
if CONFIG.is_production:
    SECURE_SSL_REDIRECT = True
    # Orchestrator probes reach the pods directly over plain HTTP, behind the TLS proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = [f"https://*.{CONFIG.domain_suffix}", f"https://{CONFIG.domain_suffix}"]
else:
    CSRF_TRUSTED_ORIGINS = ["http://*.localhost:8000", "http://localhost:8000"]

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("bn", _("Bangla")), ("vi", _("Vietnamese")), ("th", _("Thai"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "coopcore_language"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if CONFIG.is_production
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / ".data" / "media"

# --- Backups (control_plane.backups) -------------------------------------------------------------
# Tenant dumps go to the STORAGES alias named by BACKUP_STORAGE: a local folder (.data/backups) by
# default, S3-compatible storage with COOPCORE_BACKUP_STORAGE=s3. Every variable: docs/backups.md.
from control_plane.backups import conf as backup_conf  # noqa: E402 - the block keeps backups in one place

_backup_config = backup_conf.load(base_dir=BASE_DIR)
BACKUP_STORAGE = backup_conf.STORAGE_ALIAS
STORAGES[BACKUP_STORAGE] = _backup_config.storage
BACKUP_RETENTION = _backup_config.retention  # {"daily": 7, "weekly": 4, "monthly": 12}
BACKUP_NIGHTLY_HOUR = _backup_config.nightly_hour  # each cooperative's own local time
BACKUP_DRILL_HOUR = _backup_config.drill_hour
BACKUP_PG_BIN_DIR = _backup_config.pg_bin_dir  # empty: found by the server's version
BACKUP_WORK_DIR = _backup_config.work_dir  # empty: the system's temporary folder
BACKUP_QUEUE = _backup_config.queue  # empty: Celery's default queue

# --- Operations console (control_plane.console) ------------------------------------------------
# Vendor staff log in at /console/login/ on the bare domain: password, then a TOTP code.
# The name an authenticator app shows next to the code.
OTP_TOTP_ISSUER = "CoopCore operations"
# Between the password and the code: how long the half-finished log-in waits (seconds).
CONSOLE_PENDING_LOGIN_SECONDS = 5 * 60
# A console session lasts a working shift, not the workspace's twelve hours.
CONSOLE_SESSION_SECONDS = 60 * 60 * 4
# How long a one-time enrolment link (manage.py create_console_operator) stays valid.
CONSOLE_ENROLMENT_LINK_SECONDS = 60 * 60 * 24

# --- E-mail --------------------------------------------------------------------------------------
vars().update(environ.Env.email_url_config(CONFIG.email_url))
DEFAULT_FROM_EMAIL = CONFIG.default_from_email

# --- Redis, cache and Celery ---------------------------------------------------------------------
REDIS_URL = CONFIG.redis_url
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CELERY_BROKER_URL = REDIS_URL
# COOPCORE_CELERY_DEFAULT_QUEUE: processes sharing a broker (a test's own) keep their tasks apart.
CELERY_TASK_DEFAULT_QUEUE = CONFIG.celery_default_queue
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "control_plane.beat:WorkspaceScheduler"
CELERY_BEAT_SCHEDULE = {
    # Per workspace: no "tenant_schemas" key means every live cooperative gets its own run.
    "workspace-usage-snapshot": {
        "task": "tenants.tasks.usage_snapshot",
        "schedule": 60 * 60,
    },
    # Collections synced while the workspace was read-only are posted once it may post again.
    "workspace-field-queued-post": {
        "task": "field.tasks.field_queued_post",
        "schedule": 5 * 60,
    },
    # Hourly, so each workspace's new business day is seen soon after its own midnight (idempotent).
    "workspace-savings-interest": {
        "task": "core_banking.savings.tasks.savings_interest_daily",
        "schedule": 60 * 60,
    },
    # Hourly too: the loan book's close of business for the day just ended (idempotent per date).
    "workspace-loans-close-of-business": {
        "task": "core_banking.lending.tasks.close_of_business_daily",
        "schedule": 60 * 60,
    },
    # The sweep behind the after-commit kick: retries that came due, leases that expired, and rows
    # written by paths that queue no kick.
    "workspace-notifications-relay": {
        "task": "notifications.tasks.outbox_relay",
        "schedule": 60,
    },
    # Instalment reminders, queued once the workspace's own sending hour has come (idempotent per day).
    "workspace-notifications-reminders": {
        "task": "notifications.reminder_tasks.reminders_daily",
        "schedule": 15 * 60,
    },
    # Staff who may resend are e-mailed about dead messages, once a workspace day each.
    "workspace-notifications-staff-alerts": {
        "task": "notifications.tasks.staff_alerts",
        "schedule": 60 * 60,
    },
}
# Seconds between worker heartbeats; /healthz fails when none is younger than three of them.
COOPCORE_WORKER_HEARTBEAT_SECONDS = 10
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# Workers log through the same structured handlers as the web (tenant and ids on every line).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The TLS proxy (or a client) may name the request; that id then follows it through logs and the audit trail.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an API call without credentials then gets 401 with a WWW-Authenticate header
    # (DRF answers 403 when the first class is session authentication, which has no such header).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "control_plane.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoopCore workspace API",
    "DESCRIPTION": "The API of one cooperative's workspace, at its own subdomain. Authenticate with the "
    "session of a signed-in staff user or with `Authorization: Token <key>` (a token belongs to one "
    'workspace). Errors are `{"error": {"code", "message", "fields"}}` with stable codes.',
    "VERSION": "1.0.0",
    # The browsable docs are served from the installed package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several apps name a choice field "status" or "kind"; each choice set gets one stable name.
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "core_banking.members.models.MemberStatus",
        "DocumentKindEnum": "core_banking.members.models.DocumentKind",
        "SavingsKindEnum": "core_banking.savings.models.SavingsKind",
        "InterestPeriodEnum": "core_banking.savings.models.InterestPeriod",
        "AccountStatusEnum": "core_banking.savings.models.AccountStatus",
        "TransactionKindEnum": "core_banking.savings.models.TransactionKind",
        "ShareTransactionKindEnum": "core_banking.shares.models.ShareTransactionKind",
        "VoucherKindEnum": "core_banking.accounting.models.VoucherKind",
        "EntryCorrectionStatusEnum": "core_banking.accounting.models.CorrectionStatus",
        "CashHandoverStatusEnum": "core_banking.cash.models.HandoverStatus",
        "LedgerAccountKindEnum": "core_banking.ledger.models.AccountKind",
        "LoanInterestMethodEnum": "core_banking.lending.models.InterestMethod",
        "SavingsInterestMethodEnum": "core_banking.savings.models.InterestMethod",
        "RoundingEnum": "core_banking.savings.models.RoundingMode",
        "LoanInterestPeriodEnum": "core_banking.lending.models.InterestPeriod",
        "LoanApplicationStatusEnum": "core_banking.lending.models.ApplicationStatus",
        "LoanStatusEnum": "core_banking.lending.models.LoanStatus",
        "LoanTransactionKindEnum": "core_banking.lending.models.LoanTransactionKind",
        "LoanDecisionEnum": "core_banking.lending.models.Decision",
    },
}

# --- Observability -------------------------------------------------------------------------------
SENTRY_DSN = CONFIG.sentry_dsn
LOGGING = configure_logging(log_format=CONFIG.log_format, level=CONFIG.log_level)
init_sentry(dsn=CONFIG.sentry_dsn, environment=CONFIG.sentry_environment)

# --- Integrations (used by billing and notifications) ------------------------------------------
STRIPE_SECRET_KEY = CONFIG.stripe_secret_key
STRIPE_WEBHOOK_SECRET = CONFIG.stripe_webhook_secret
STRIPE_API_BASE = CONFIG.stripe_api_base
TWILIO_ACCOUNT_SID = CONFIG.twilio_account_sid
TWILIO_AUTH_TOKEN = CONFIG.twilio_auth_token
TWILIO_API_BASE = CONFIG.twilio_api_base
TWILIO_FROM_NUMBER = CONFIG.twilio_from_number

# --- SMS sending (notifications/; docs/notifications.md) ------------------------------------------
NOTIFICATIONS_SMS_PROVIDER = "twilio"
# A request to the gateway that has not answered by then is ambiguous: asked about before a resend.
TWILIO_TIMEOUT_SECONDS = 10.0
# Sends in flight at once per relay task (threads doing HTTP only; the database work stays in the task).
NOTIFICATIONS_RELAY_CONCURRENCY = 16
# Relay runs queued by one kick (after a money movement's commit): the default worker runs one task
# per CPU, and two runs keep both busy through a burst.
NOTIFICATIONS_RELAY_RUNS_PER_KICK = 2
# The Celery queue relay runs are sent to (sending workers of their own); empty: the default queue.
NOTIFICATIONS_RELAY_QUEUE = ""
if NOTIFICATIONS_RELAY_QUEUE:
    CELERY_BEAT_SCHEDULE["workspace-notifications-relay"]["options"] = {"queue": NOTIFICATIONS_RELAY_QUEUE}
# Rows claimed per round; a relay that dies leaves them to be claimed again after the lease.
NOTIFICATIONS_RELAY_BATCH = 64
NOTIFICATIONS_RELAY_LEASE_SECONDS = 120
# A relay run stops after this long and queues the next run, so one workspace never holds a worker.
NOTIFICATIONS_RELAY_MAX_SECONDS = 60
# Transient failures: attempt n waits base * 2**(n-1) seconds (at most the cap), half of it jittered.
NOTIFICATIONS_RETRY_BASE_SECONDS = 30
NOTIFICATIONS_RETRY_CAP_SECONDS = 3600
# After this many attempts a message is dead: shown to staff, who can send it again.
NOTIFICATIONS_MAX_ATTEMPTS = 8
# What one SMS segment costs, per currency (a decimal string, in the currency's units), shown in the
# SMS text editor (notifications/texts.py, docs/notification-texts.md). A workspace sees the price
# in its own currency when listed here, else in NOTIFICATIONS_SMS_PRICE_FALLBACK_CURRENCY.
NOTIFICATIONS_SMS_SEGMENT_PRICES = {"BDT": "0.45", "VND": "350", "THB": "0.60", "USD": "0.0450"}
NOTIFICATIONS_SMS_PRICE_FALLBACK_CURRENCY = "USD"

# --- Billing and online sign-up (billing/, onboarding/; docs/billing.md) ----------------------------
# The official Stripe client's secret key (read from STRIPE_SECRET_KEY above). STRIPE_API_BASE, when
# set, sends the client to localstripe or to the local Checkout fake (`python -m billing.stripe_fake`)
# instead of api.stripe.com; STRIPE_WEBHOOK_SECRET verifies the signature of /billing/stripe/webhook/.
STRIPE_API_KEY = STRIPE_SECRET_KEY
# A past-due cooperative becomes read-only this many days after its payment failed.
BILLING_GRACE_PERIOD_DAYS = 14
# A plan with no price in the cooperative's own currency is billed in this one.
BILLING_FALLBACK_CURRENCY = "USD"
# A sign-up not paid within this time expires, leaving no workspace (Checkout allows 30 min to 24 h).
SIGNUP_CHECKOUT_MINUTES = 60
# Life of the one-time log-in that carries a new cooperative's admin into its workspace.
SIGNUP_HANDOFF_SECONDS = 120
# Sign-ups started (each opens a Stripe Checkout session and holds a subdomain for an hour) per
# client address, and subdomain checks as the name is typed: django-ratelimit's "count/period"
# (s, m, h, d), counted in Redis. Empty switches a limit off (the test suite's servers do).
SIGNUP_RATE = CONFIG.signup_rate  # COOPCORE_SIGNUP_RATE
SIGNUP_SLUG_CHECK_RATE = CONFIG.signup_slug_check_rate  # COOPCORE_SIGNUP_SLUG_CHECK_RATE
RATELIMIT_USE_CACHE = "default"
# Template clones kept ready (tenants/spares.py): provisioning renames one into place instead of
# cloning while the person waits. 0 turns the pool off (every provisioning clones).
TENANT_SPARE_WORKSPACES = CONFIG.spare_workspaces  # COOPCORE_SPARE_WORKSPACES
