"""Staff page forms: they parse what was typed; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from control_plane.errors import BusinessRuleViolation
from control_plane.identity.models import User
from core_banking.members.models import DocumentKind, Gender, Member, MemberGroup, MemberType, Weekday
from core_banking.members.services import MESSAGE_LANGUAGES
from core_banking.organisation.models import Branch

LANGUAGE_NAMES = {"bn": _("Bangla"), "vi": _("Vietnamese"), "th": _("Thai"), "en": _("English")}


class DateInput(forms.DateInput):
    input_type = "date"


def _branches(visible_branch_ids: list[int] | None) -> Any:
    branches = Branch.objects.all()
    return branches if visible_branch_ids is None else branches.filter(pk__in=visible_branch_ids)


def apply_violation(form: forms.BaseForm, violation: BusinessRuleViolation) -> None:
    """The service's field messages onto the form's fields (or the form itself when it has no such field)."""
    if not violation.fields:
        form.add_error(None, violation.message)
    for field, messages in violation.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class MemberForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Branch"))
    member_type = forms.ModelChoiceField(queryset=MemberType.objects.all(), label=_("Member type"))
    group = forms.ModelChoiceField(queryset=MemberGroup.objects.none(), required=False, label=_("Group"))
    full_name = forms.CharField(max_length=200, label=_("Full name"))
    guardian_name = forms.CharField(max_length=200, required=False, label=_("Father's or husband's name"))
    gender = forms.ChoiceField(choices=[("", "—"), *Gender.choices], required=False, label=_("Gender"))
    date_of_birth = forms.DateField(required=False, widget=DateInput, label=_("Date of birth"))
    national_id = forms.CharField(max_length=60, required=False, label=_("National ID number"))
    phone = forms.CharField(
        max_length=40,
        required=False,
        label=_("Phone"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(required=False, label=_("E-mail"))
    message_language = forms.ChoiceField(
        choices=[(code, LANGUAGE_NAMES[code]) for code in MESSAGE_LANGUAGES], label=_("Language for messages")
    )
    sms_opt_out = forms.BooleanField(
        required=False,
        label=_("No SMS messages"),
        help_text=_(
            "The member asked not to receive SMS messages; they are kept, not sent, and shown to staff."
        ),
    )
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Address"))
    join_date = forms.DateField(widget=DateInput, label=_("Join date"))

    def __init__(
        self, *args: Any, visible_branch_ids: list[int] | None, member: Member | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        branch_field: Any = self.fields["branch"]
        group_field: Any = self.fields["group"]
        branch_field.queryset = _branches(visible_branch_ids)
        groups = MemberGroup.objects.filter(is_active=True).select_related("branch")
        if member is not None:
            del self.fields["branch"]  # a member's branch and number stay; moving is a transfer
            groups = MemberGroup.objects.filter(branch_id=member.branch_id)
        elif visible_branch_ids is not None:
            groups = groups.filter(branch_id__in=visible_branch_ids)
        group_field.queryset = groups


class NomineeForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    relationship = forms.CharField(max_length=60, label=_("Relationship"))
    share_percent = forms.IntegerField(min_value=1, max_value=100, label=_("Share (%)"))
    phone = forms.CharField(
        max_length=40,
        required=False,
        label=_("Phone"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    national_id = forms.CharField(max_length=60, required=False, label=_("National ID number"))


NomineeFormSet = forms.formset_factory(NomineeForm, extra=2, max_num=6, can_delete=True)


class StatusForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("suspend_from_borrowing", ""), ("reinstate", "")], widget=forms.HiddenInput
    )
    reason = forms.CharField(max_length=500, label=_("Reason"))


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=DocumentKind.choices, label=_("What is it?"))
    file = forms.FileField(
        label=_("Picture"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
        help_text=_(
            "Take a photo with the phone's camera, or choose a file (JPEG, PNG or WebP, at most 10 MB)."
        ),
    )


class GroupForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Branch"))
    code = forms.CharField(max_length=20, label=_("Code"))
    name = forms.CharField(max_length=120, label=_("Name"))
    meeting_weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, label=_("Meeting day"))
    meeting_place = forms.CharField(max_length=200, required=False, label=_("Meeting place"))
    leader_number = forms.CharField(
        max_length=30,
        required=False,
        label=_("Leader's member number"),
        help_text=_("A member of the same branch."),
    )
    field_officer = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Field officer")
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))

    def __init__(
        self,
        *args: Any,
        visible_branch_ids: list[int] | None,
        group: MemberGroup | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        branch_field: Any = self.fields["branch"]
        officer_field: Any = self.fields["field_officer"]
        branch_field.queryset = _branches(visible_branch_ids)
        officer_field.queryset = User.objects.filter(staff_profile__isnull=False, is_active=True).order_by(
            "username"
        )
        officer_field.label_from_instance = lambda user: (
            f"{user.get_full_name() or user.username} ({user.username})"
        )
        if group is not None:
            del self.fields["branch"]


class LeaderLoginForm(forms.Form):
    """A group leader's sign-in to the field app, set by the staff member who hands over the phone."""

    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    password_again = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, max_length=128)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned
