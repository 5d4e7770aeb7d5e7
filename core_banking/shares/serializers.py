"""What the shares API reads and answers. Serializers only parse and shape; services decide."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core_banking.savings.models import Channel, SavingsTransaction
from core_banking.shares.models import MemberExit, ShareTransaction
from core_banking.shares.services import EXIT_KEY_MAX_LENGTH


class SharesErrorDetailSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # One of the keys is "fields", which a serializer cannot declare as a class attribute.
        return {
            "code": serializers.CharField(help_text="A stable code, e.g. exit_refused."),
            "message": serializers.CharField(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="Messages per field name (per exit blocker for exit_refused).",
            ),
        }


class SharesErrorSerializer(serializers.Serializer):
    """What every error of the API looks like."""

    error = SharesErrorDetailSerializer()


class ShareSettingsSerializer(serializers.Serializer):
    nominal_value_minor = serializers.IntegerField(min_value=1, help_text="Value of one share, minor units.")
    minimum_shares = serializers.IntegerField(min_value=0)
    maximum_shares = serializers.IntegerField(min_value=1, allow_null=True, help_text="null: no limit.")
    currency = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class SharePositionSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    member_number = serializers.CharField()
    shares = serializers.IntegerField()
    balance_minor = serializers.IntegerField()
    nominal_value_minor = serializers.IntegerField()
    currency = serializers.CharField()
    opened_on = serializers.DateField(allow_null=True)
    status = serializers.CharField(help_text="The member's status: active, suspended_from_borrowing, exited.")


class ShareTransactionSerializer(serializers.ModelSerializer[ShareTransaction]):
    class Meta:
        model = ShareTransaction
        fields = [
            "id",
            "kind",
            "shares",
            "amount_minor",
            "shares_after",
            "balance_after_minor",
            "value_date",
            "entry",
            "idempotency_key",
            "channel",
            "memo",
            "created_at",
        ]
        read_only_fields = fields


class PurchaseSerializer(serializers.Serializer):
    shares = serializers.IntegerField(min_value=1)
    value_date = serializers.DateField(
        required=False, help_text="Defaults to the cooperative's business date."
    )
    idempotency_key = serializers.CharField(
        max_length=120, help_text="Chosen by the client; sending the same purchase again posts nothing more."
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.OFFICE)
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PurchaseResultSerializer(serializers.Serializer):
    transaction = ShareTransactionSerializer()
    account = SharePositionSerializer()


class ExitRequestSerializer(serializers.Serializer):
    exit_date = serializers.DateField(
        required=False, help_text="Defaults to the cooperative's business date."
    )
    idempotency_key = serializers.CharField(max_length=EXIT_KEY_MAX_LENGTH)
    reason = serializers.CharField(max_length=300)


class SavingsPayoutPreviewSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    number = serializers.CharField()
    product = serializers.CharField()
    balance_minor = serializers.IntegerField()
    lien_minor = serializers.IntegerField()


class MemberExitSerializer(serializers.ModelSerializer[MemberExit]):
    class Meta:
        model = MemberExit
        fields = [
            "id",
            "member",
            "exit_date",
            "reason",
            "shares_paid_out",
            "share_amount_minor",
            "savings_paid_out_minor",
            "created_at",
        ]
        read_only_fields = fields


class ExitPreviewSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member.pk")
    allowed = serializers.BooleanField()
    blockers = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Reasons per exit blocker (e.g. savings_lien); empty when the member may exit.",
    )
    shares = serializers.IntegerField()
    share_amount_minor = serializers.IntegerField()
    savings = SavingsPayoutPreviewSerializer(many=True)
    total_minor = serializers.IntegerField()
    exit = MemberExitSerializer(source="done", allow_null=True)


class SavingsPayoutSerializer(serializers.ModelSerializer[SavingsTransaction]):
    class Meta:
        model = SavingsTransaction
        fields = [
            "id",
            "account",
            "amount_minor",
            "balance_after_minor",
            "value_date",
            "entry",
            "idempotency_key",
        ]
        read_only_fields = fields


class ExitSettlementSerializer(serializers.Serializer):
    exit = MemberExitSerializer()
    share_withdrawal = ShareTransactionSerializer(allow_null=True)
    savings_payouts = SavingsPayoutSerializer(many=True)


def position_data(position: Any, *, member_number: str, status: str, currency: str) -> dict[str, Any]:
    return {
        "member_id": position.member_id,
        "member_number": member_number,
        "shares": position.shares,
        "balance_minor": position.balance_minor,
        "nominal_value_minor": position.nominal_value_minor,
        "currency": currency,
        "opened_on": position.opened_on,
        "status": status,
    }
