"""Staff pages of the SMS texts (mounted at /notifications/texts/): every message kind per language,
an editor with a live sample (text, encoding, segments, cost), versions, and the reminder settings.

Anyone on the staff reads them; saving needs the capability to manage the cooperative's settings,
as the loan documents' wording does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from control_plane.errors import BusinessRuleViolation
from core_banking.organisation.forms import apply_violation
from core_banking.savings.views import staff_allowed, staff_of
from core_banking.staff.roles import Capability
from notifications import template_services, texts
from notifications.models import MessageKind
from notifications.templates_models import MAX_REMINDER_DAYS, notification_settings_current
from notifications.texts_selectors import (
    MessagePreview,
    TemplateVersionView,
    message_preview,
    template_history,
    templates_overview,
)


class MessageTemplateForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message text"),
        required=False,
        strip=False,
        max_length=texts.MAX_TEMPLATE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Empty: the default text."),
    )


class NotificationSettingsForm(forms.Form):
    upcoming_reminder_days = forms.IntegerField(
        label=gettext_lazy("Reminder this many days before an instalment falls due"),
        min_value=0,
        max_value=MAX_REMINDER_DAYS,
        help_text=gettext_lazy("0: no reminder before the due date."),
    )
    overdue_reminder_days = forms.IntegerField(
        label=gettext_lazy("Reminders on each of the first days overdue"),
        min_value=0,
        max_value=MAX_REMINDER_DAYS,
        help_text=gettext_lazy("0: no overdue reminders."),
    )
    send_hour = forms.IntegerField(
        label=gettext_lazy("Local hour reminders are sent (0–23)"), min_value=0, max_value=23
    )
    unaccented_vietnamese = forms.BooleanField(
        label=gettext_lazy("Vietnamese messages without diacritics (GSM-7: up to 160 characters per SMS)"),
        required=False,
    )


@dataclass(frozen=True)
class TemplateCell:
    language: str
    current: TemplateVersionView | None

    @property
    def custom(self) -> bool:
        return self.current is not None and not self.current.row.is_default


@dataclass(frozen=True)
class TemplateRow:
    kind: MessageKind
    cells: list[TemplateCell]


def _key(kind: str, language: str) -> tuple[MessageKind, str]:
    if kind not in texts.KINDS or language not in texts.LANGUAGES:
        raise Http404
    return MessageKind(kind), language


def _settings_form(data: Mapping[str, Any] | None = None) -> NotificationSettingsForm:
    if data is not None:
        return NotificationSettingsForm(data)
    return NotificationSettingsForm(initial=asdict(notification_settings_current()))


def _index(
    request: HttpRequest, settings_form: NotificationSettingsForm, *, status: int = 200
) -> HttpResponse:
    profile = staff_of(request)
    current = templates_overview()
    rows = [
        TemplateRow(
            kind,
            [TemplateCell(language, current.get((kind.value, language))) for language in texts.LANGUAGES],
        )
        for kind in MessageKind
    ]
    context = {
        "rows": rows,
        "settings_form": settings_form,
        "can_manage": profile.can(Capability.MANAGE_ORGANISATION),
    }
    return render(request, "notifications/texts.html", context, status=status)


@login_required
@require_GET
def message_templates(request: HttpRequest) -> HttpResponse:
    """Every message kind per language: the default, or the cooperative's own (which version)."""
    return _index(request, _settings_form())


@login_required
@require_POST
def notification_settings_edit(request: HttpRequest) -> HttpResponse:
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    form = _settings_form(request.POST.dict())
    if form.is_valid():
        try:
            template_services.notification_settings_save(actor=request.user, **form.cleaned_data)
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Notification settings saved."))
            return HttpResponseRedirect(reverse("notification_texts:index"))
    return _index(request, form, status=400)


def _editor(
    request: HttpRequest,
    kind: MessageKind,
    language: str,
    form: MessageTemplateForm,
    preview: MessagePreview,
    *,
    status: int = 200,
) -> HttpResponse:
    profile = staff_of(request)
    history = template_history(kind.value, language)
    context = {
        "kind": kind,
        "language": language,
        "form": form,
        "default_text": texts.default_template(kind.value, language),
        "placeholders": [(name, texts.PLACEHOLDER_HELP[name]) for name in texts.PLACEHOLDERS[kind.value]],
        "filters": ", ".join(texts.FILTERS),
        "preview": preview,
        "history": history,
        "current": history[0] if history else None,
        "can_manage": profile.can(Capability.MANAGE_ORGANISATION),
    }
    return render(request, "notifications/text_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def message_template_edit(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """One message in one language: the text, the placeholders, the live sample, the history."""
    message_kind, language = _key(kind, language)
    if request.method == "POST":
        staff_allowed(request, Capability.MANAGE_ORGANISATION)
        form = MessageTemplateForm(request.POST)
        if form.is_valid():
            try:
                saved = template_services.message_template_save(
                    actor=request.user,
                    kind=message_kind.value,
                    language=language,
                    body=form.cleaned_data["body"],
                )
            except BusinessRuleViolation as violation:
                apply_violation(form, violation)
            else:
                messages.success(
                    request,
                    _("Text saved as version %(version)s: messages sent from now on use it.")
                    % {"version": saved.version},
                )
                return HttpResponseRedirect(
                    reverse("notification_texts:edit", args=[message_kind.value, language])
                )
        preview = message_preview(message_kind.value, language, str(request.POST.get("body", "")))
        return _editor(request, message_kind, language, form, preview, status=400)
    staff_of(request)
    saved_text = (
        history[0].row.body if (history := template_history(message_kind.value, language, limit=1)) else ""
    )
    form = MessageTemplateForm(
        initial={"body": saved_text or texts.default_template(message_kind.value, language)}
    )
    preview = message_preview(message_kind.value, language, saved_text)
    return _editor(request, message_kind, language, form, preview)


@login_required
@require_POST
def message_template_preview(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """htmx: the text as typed, rendered with sample values and measured (nothing is saved)."""
    staff_of(request)
    message_kind, language = _key(kind, language)
    preview = message_preview(message_kind.value, language, str(request.POST.get("body", "")))
    return render(request, "notifications/_text_preview.html", {"preview": preview, "language": language})


@login_required
@require_POST
def message_template_restore(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """Back to the default text, as a new version that says so."""
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    message_kind, language = _key(kind, language)
    saved = template_services.message_template_restore_default(
        actor=request.user, kind=message_kind.value, language=language
    )
    messages.success(
        request, _("The default text is back, as version %(version)s.") % {"version": saved.version}
    )
    return HttpResponseRedirect(reverse("notification_texts:edit", args=[message_kind.value, language]))
