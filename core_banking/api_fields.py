"""Serializer fields and permissions shared by the workspace's API modules."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core_banking.money import MoneyFormatError, from_minor, to_minor
from tenants.db import workspace_currency


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """An amount as a decimal string in major units ("1250.75"), held as minor units inside."""

    default_error_messages = {"invalid": "{message}", "positive": "Must be more than zero."}

    def __init__(self, *, positive: bool = True, **kwargs: Any) -> None:
        self.positive = positive
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid", message='Give the amount as a decimal string, e.g. "1250.75".')
        try:
            minor = to_minor(data, workspace_currency())
        except MoneyFormatError as error:
            self.fail("invalid", message=str(error))
        if self.positive and minor <= 0:
            self.fail("positive")
        return minor

    def to_representation(self, value: int) -> str:
        return from_minor(int(value), workspace_currency())


class IdempotencyKeyField(serializers.CharField):
    """The client's key for a money movement: the same key again returns the first result."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault(
            "help_text",
            "Chosen by the client, unique per movement; sending it again returns the first result.",
        )
        super().__init__(**kwargs)
