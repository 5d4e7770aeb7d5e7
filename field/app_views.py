"""The field app (PWA) as the workspace serves it: the page, its service worker and its manifest.

The page needs a signed-in staff user who collects in the field; everything it then fetches for
data carries the device's token (docs/field-app.md). The service worker and the manifest are served
from /field/ so that the worker's scope covers the app, and are public: the browser fetches them
without asking anyone to log in, and they hold nothing of the cooperative's data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from babel.numbers import get_currency_precision
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core_banking.staff.roles import Capability
from tenants.db import workspace_currency

# The app's own modules and styles (field/static/field/), loaded through the page's import map.
MODULES = ("app.js", "store.js", "sync.js", "money.js", "images.js", "text.js")
STYLES = ("app.css",)
ICON_SIZES = (192, 512)
ICONS = tuple(f"icon-{size}.png" for size in ICON_SIZES)
TEMPLATES = ("field/app/index.html", "field/app/sw.js")
# Shared with the staff pages.
SHARED_STATIC = ("vendor/pico.min.css",)


def _static_names() -> list[str]:
    return [f"field/{name}" for name in (*MODULES, *STYLES, *ICONS)] + list(SHARED_STATIC)


def app_version() -> str:
    """A digest of the app's static files and the page's template: a deploy that changes any of
    them gives the service worker a new cache name, so the new shell replaces the old one."""
    digest = hashlib.sha256()
    static_paths = [(name, finders.find(name)) for name in _static_names()]
    template_paths = [(name, get_template(name).origin.name) for name in TEMPLATES]  # type: ignore[attr-defined]
    for name, path in [*static_paths, *template_paths]:
        if not isinstance(path, str):
            raise FileNotFoundError(name)
        with open(path, "rb") as source:
            digest.update(name.encode() + b"\0" + source.read())
    return digest.hexdigest()[:16]


def _strings() -> dict[str, str]:
    """Everything the app's scripts show, in the page's language (the scripts hold no text)."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "syncing": _("Uploading…"),
        "pending_count": _("Waiting to upload: %(count)s"),
        "last_sync": _("Last upload: %(time)s"),
        "never_synced": _("Not uploaded yet"),
        "sync_failed": _("Upload failed; it will be tried again: %(reason)s"),
        "sync_done": _("Everything is uploaded."),
        "device_registering": _("Registering this phone…"),
        "device_register_failed": _("This phone could not be registered: %(reason)s"),
        "device_register_offline": _("Connect to the internet once to register this phone."),
        "device_refused": _(
            "This phone's access was refused by the server (%(reason)s). Nothing more is uploaded. "
            "The records below stay on this phone; ask your manager."
        ),
        "storage_refused": _(
            "This browser did not promise to keep the app's data. Upload often, and do not clear the "
            "browser's data before everything is uploaded."
        ),
        "downloading": _("Downloading…"),
        "downloaded_at": _("Downloaded: %(time)s"),
        "not_downloaded": _("Nothing downloaded yet. Download before going out."),
        "download_failed": _("Download failed: %(reason)s"),
        "no_meetings": _("No group of yours meets on this day."),
        "leader": _("Leader"),
        "due_today": _("Due today"),
        "overdue": _("Overdue"),
        "instalment": _("Instalment"),
        "outstanding": _("Outstanding"),
        "balance": _("Balance"),
        "available": _("Available"),
        "no_loans": _("No active loan."),
        "no_savings": _("No savings account."),
        "record_instalment": _("Instalment"),
        "record_deposit": _("Deposit"),
        "record_withdrawal": _("Withdrawal request"),
        "attendance": _("Attendance"),
        "present": _("Present"),
        "search_results": _("%(count)s found"),
        "search_empty": _("Nobody found."),
        "kind_instalment": _("Loan instalment"),
        "kind_savings_deposit": _("Savings deposit"),
        "kind_withdrawal_request": _("Withdrawal request"),
        "kind_attendance": _("Attendance"),
        "kind_admission": _("New member"),
        "state_pending": _("Waiting to upload"),
        "state_confirmed": _("Confirmed"),
        "state_queued": _("Received; posted when the workspace is writable again"),
        "state_attention": _("Needs attention"),
        "state_withdrawal_pay": _("Approved: pay the cash out now"),
        "state_withdrawal_hold": _("Do not pay out"),
        "state_withdrawal_wait": _("Waiting to upload: do not pay out yet"),
        "state_admission_received": _("Received; waits for a manager's approval"),
        "status_needs_review": _("Kept for review"),
        "status_conflict": _("Conflict"),
        "status_invalid": _("Not accepted"),
        "send_again": _("Send again"),
        "saved": _("Saved on this phone; waiting to upload."),
        "amount_invalid": _("Enter an amount above zero with at most %(digits)s decimal places."),
        "required": _("This field is required."),
        "paid_by": _("Brought by %(name)s"),
        "present_absent": _("%(present)s present, %(absent)s absent"),
        "no_records": _("Nothing recorded yet."),
        "photo_failed": _("The picture could not be read; take it again."),
        "choose": _("Choose…"),
    }


def _import_map() -> str:
    """The modules' bare names mapped to their static URLs (hashed in production), as script-safe JSON."""
    imports = {f"field/{name}": static(f"field/{name}") for name in MODULES}
    text = json.dumps({"imports": imports})
    return mark_safe(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S308


@login_required
@require_GET
def field_app(request: HttpRequest) -> HttpResponse:
    profile = getattr(request.user, "staff_profile", None)
    if profile is None or not profile.can(Capability.COLLECT_IN_FIELD):
        raise PermissionDenied
    currency = workspace_currency()
    tenant: Any = getattr(request, "tenant", None)
    user: Any = request.user
    config = {
        "version": app_version(),
        "user": {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()},
        "language": request.LANGUAGE_CODE,
        "currency": {"code": currency, "exponent": int(get_currency_precision(currency))},
        "nativeDigits": bool(getattr(tenant, "use_native_digits", False)),
        "csrfToken": get_token(request),
        "urls": {
            "devices": reverse("api_field_devices"),
            "sync": reverse("api_field_sync"),
            "sheet": reverse("api_field_sheet"),
            "book": reverse("api_field_book"),
            "serviceWorker": reverse("field_app:service_worker"),
            "scope": reverse("field_app:index"),
        },
        "strings": _strings(),
    }
    context = {
        "config": config,
        "import_map": _import_map(),
        "languages": settings.LANGUAGES,
    }
    return render(request, "field/app/index.html", context)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [reverse("field_app:index"), reverse("field_app:manifest")]
    precache = shell + [static(name) for name in _static_names()]
    body = render(
        request,
        "field/app/sw.js",
        {"version": app_version(), "precache": json.dumps(precache), "shell": json.dumps(shell[0])},
        content_type="text/javascript; charset=utf-8",
    )
    # The browser checks for a new worker on every visit: never keep an old one in a cache.
    body["Cache-Control"] = "no-cache"
    body["Service-Worker-Allowed"] = reverse("field_app:index")
    return body


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    start = reverse("field_app:index")
    tenant: Any = getattr(request, "tenant", None)
    name = _("Field collection")
    body = {
        "name": f"{name} · {tenant.name}" if tenant is not None else name,
        "short_name": name,
        "start_url": start,
        "scope": start,
        "id": start,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0172ad",
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {
                "src": static(f"field/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in ICON_SIZES
        ],
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
