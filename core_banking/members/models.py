"""Groups (samity / tổ tiết kiệm và vay vốn), members, their nominees and their documents.

Writes go through ``core_banking.members.services``; reads that are more than a lookup live in
``core_banking.members.selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.organisation.models import Branch


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class MemberGroup(models.Model):
    """A group of members inside one branch that meets weekly; weekly samity loans fall due on its day."""

    id = models.BigAutoField(primary_key=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="groups")
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    meeting_weekday = models.PositiveSmallIntegerField(_("meeting day"), choices=Weekday.choices)
    meeting_place = models.CharField(_("meeting place"), max_length=200, blank=True)
    leader = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="groups_led"
    )
    field_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_groups",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["branch_id", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MemberType(models.Model):
    """The cooperative's own member types (ordinary, associate, staff...); lending rules refer to them."""

    id = models.BigAutoField(primary_key=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED_FROM_BORROWING = "suspended_from_borrowing", _("Suspended from borrowing")
    EXITED = "exited", _("Exited")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Member(models.Model):
    id = models.BigAutoField(primary_key=True)
    number = models.CharField(_("member number"), max_length=30, unique=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="members")
    group = models.ForeignKey(
        MemberGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    member_type = models.ForeignKey(MemberType, on_delete=models.PROTECT, related_name="members")
    full_name = models.CharField(_("full name"), max_length=200)
    guardian_name = models.CharField(_("father's or husband's name"), max_length=200, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    # Unique per cooperative when given; the format is checked per country by the service.
    national_id = models.CharField(_("national ID number"), max_length=30, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True, help_text=_("E.164, e.g. +8801711000000"))
    email = models.EmailField(_("e-mail"), blank=True)
    message_language = models.CharField(_("language for messages"), max_length=5)
    # The member asked for no SMS (on paper, at the counter): their messages stay in the outbox as
    # "opted out" for staff to see. A database default, so rows inserted in raw SQL get it too.
    sms_opt_out = models.BooleanField(
        _("no SMS messages"),
        default=False,
        db_default=False,
        help_text=_("The member asked not to receive SMS messages."),
    )
    address = models.TextField(_("address"), blank=True)
    join_date = models.DateField(_("join date"))
    status = models.CharField(
        _("status"), max_length=32, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    exit_date = models.DateField(_("exit date"), null=True, blank=True)
    # Lower-cased, diacritics removed, digits folded to 0-9: what member search matches against.
    search_text = models.TextField(default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["national_id"], condition=~models.Q(national_id=""), name="national_id_unique"
            ),
        ]
        indexes = [
            # Substring search over names, numbers and phones in any script (pg_trgm, migration 0002).
            GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="member_search_text_trgm"),
            models.Index(fields=["phone"], condition=~models.Q(phone=""), name="member_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.full_name}"


class MemberNumberCounter(models.Model):
    """The last member number given out in a branch; incremented in one statement, so never twice."""

    branch = models.OneToOneField(
        Branch, on_delete=models.PROTECT, primary_key=True, related_name="member_number_counter"
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.branch_id}: {self.last_number}"


class Nominee(models.Model):
    id = models.BigAutoField(primary_key=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="nominees")
    name = models.CharField(_("name"), max_length=200)
    relationship = models.CharField(_("relationship"), max_length=60)
    share_percent = models.PositiveSmallIntegerField(_("share (%)"), default=100)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    national_id = models.CharField(_("national ID number"), max_length=30, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"


class DocumentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    ID_FRONT = "id_front", _("ID card, front")
    ID_BACK = "id_back", _("ID card, back")


class MemberDocument(models.Model):
    """A photo or ID scan: re-encoded and thumbnailed on upload, stored under the workspace's prefix."""

    id = models.BigAutoField(primary_key=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices)
    storage_path = models.CharField(max_length=300)
    thumbnail_path = models.CharField(max_length=300)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()
    uploaded_by_id = models.BigIntegerField(null=True, blank=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind"], condition=models.Q(is_current=True), name="one_current_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind}"
