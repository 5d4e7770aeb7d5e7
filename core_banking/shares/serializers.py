"""What the shares API reads and answers. Serializers only parse and shape; services decide.

Amounts travel as decimal strings in major units ("1250.75"; VND without decimals), held as minor
units inside; numbers of shares are whole numbers.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core_banking.api_fields import IdempotencyKeyField, MoneyField
from core_banking.savings.models import Channel, SavingsTransaction
from core_banking.shares.models import MemberExit, ShareTransaction
from core_banking.shares.services import EXIT_KEY_MAX_LENGTH, LARGEST_AMOUNT_MINOR


class ShareSettingsSerializer(serializers.Serializer):
    nominal_value = MoneyField(source="nominal_value_minor", help_text='Value of one share, e.g. "100.00".')
    minimum_shares = serializers.IntegerField(min_value=0)
    maximum_shares = serializers.IntegerField(min_value=1, allow_null=True, help_text="null: no limit.")
    currency = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def validate_nominal_value(self, value: int) -> int:
        if value > LARGEST_AMOUNT_MINOR:
            raise serializers.ValidationError("Far too large.")
        return value


class SharePositionSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    member_number = serializers.CharField()
    shares = serializers.IntegerField()
    balance = MoneyField(source="balance_minor", positive=False)
    nominal_value = MoneyField(source="nominal_value_minor", help_text="Value of one share now.")
    currency = serializers.CharField()
    opened_on = serializers.DateField(allow_null=True)
    status = serializers.CharField(help_text="The member's status: active, suspended_from_borrowing, exited.")


class ShareTransactionSerializer(serializers.ModelSerializer[ShareTransaction]):
    amount = MoneyField(
        source="amount_minor", positive=False, read_only=True, help_text="Negative for a withdrawal."
    )
    balance_after = MoneyField(source="balance_after_minor", positive=False, read_only=True)

    class Meta:
        model = ShareTransaction
        fields = [
            "id",
            "kind",
            "shares",
            "amount",
            "shares_after",
            "balance_after",
            "value_date",
            "entry",
            "idempotency_key",
            "channel",
            "memo",
            "created_at",
        ]
        read_only_fields = fields


class PurchaseSerializer(serializers.Serializer):
    shares = serializers.IntegerField(min_value=1, help_text="How many shares to buy.")
    value_date = serializers.DateField(
        required=False, help_text="Defaults to the cooperative's business date."
    )
    idempotency_key = IdempotencyKeyField()
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.OFFICE)
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PurchaseResultSerializer(serializers.Serializer):
    transaction = ShareTransactionSerializer()
    account = SharePositionSerializer()


class ExitRequestSerializer(serializers.Serializer):
    exit_date = serializers.DateField(
        required=False, help_text="Defaults to the cooperative's business date."
    )
    # The payouts' own keys are derived from this one and must still fit their columns.
    idempotency_key = IdempotencyKeyField(max_length=EXIT_KEY_MAX_LENGTH)
    reason = serializers.CharField(max_length=300)


class SavingsPayoutPreviewSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    number = serializers.CharField()
    product = serializers.CharField()
    balance = MoneyField(source="balance_minor", positive=False, help_text="What would be paid out.")
    lien = MoneyField(source="lien_minor", positive=False)


class MemberExitSerializer(serializers.ModelSerializer[MemberExit]):
    share_amount = MoneyField(source="share_amount_minor", positive=False, read_only=True)
    savings_paid_out = MoneyField(source="savings_paid_out_minor", positive=False, read_only=True)

    class Meta:
        model = MemberExit
        fields = [
            "id",
            "member",
            "exit_date",
            "reason",
            "shares_paid_out",
            "share_amount",
            "savings_paid_out",
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
    share_amount = MoneyField(source="share_amount_minor", positive=False)
    savings = SavingsPayoutPreviewSerializer(many=True)
    savings_total = MoneyField(source="savings_total_minor", positive=False)
    total = MoneyField(source="total_minor", positive=False, help_text="Shares and savings together.")
    exit = MemberExitSerializer(source="done", allow_null=True, help_text="The exit, once done.")


class SavingsPayoutSerializer(serializers.ModelSerializer[SavingsTransaction]):
    amount = MoneyField(source="amount_minor", positive=False, read_only=True)
    balance_after = MoneyField(source="balance_after_minor", positive=False, read_only=True)

    class Meta:
        model = SavingsTransaction
        fields = [
            "id",
            "account",
            "amount",
            "balance_after",
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
