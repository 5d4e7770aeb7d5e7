"""DRF serializers for the reports' dataclasses, derived from their type hints.

One serializer class per dataclass (cached), so the OpenAPI schema names each shape once
(``AccountRef``, ``TrialBalanceRow`` ...) and a new report's result needs no hand-written serializer.
Boolean and integer properties of a dataclass (``TrialBalance.balanced``) are included, read-only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from decimal import Decimal
from typing import Any

from rest_framework import serializers

_SERIALIZERS: dict[type, type[serializers.Serializer[Any]]] = {}


def dataclass_serializer(cls: type) -> type[serializers.Serializer[Any]]:
    if cls in _SERIALIZERS:
        return _SERIALIZERS[cls]
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    declared: dict[str, serializers.Field[Any, Any, Any, Any]] = {
        field.name: _field_for(hints[field.name]) for field in dataclasses.fields(cls)
    }
    for name, attribute in vars(cls).items():
        if isinstance(attribute, property) and attribute.fget is not None:
            returned = typing.get_type_hints(attribute.fget).get("return")
            if returned in (bool, int):
                declared[name] = _field_for(returned, read_only=True)
    serializer: type[serializers.Serializer[Any]] = type(
        f"{cls.__name__}Serializer", (serializers.Serializer,), {**declared, "__module__": __name__}
    )
    _SERIALIZERS[cls] = serializer
    return serializer


_SCALARS: dict[Any, type[serializers.Field[Any, Any, Any, Any]]] = {
    bool: serializers.BooleanField,
    int: serializers.IntegerField,
    str: serializers.CharField,
    dt.datetime: serializers.DateTimeField,
    dt.date: serializers.DateField,
}


def _field_for(hint: Any, **options: Any) -> serializers.Field[Any, Any, Any, Any]:
    origin = typing.get_origin(hint)
    arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)]
    if origin in (typing.Union, types.UnionType):
        if len(arguments) != 1:
            raise TypeError(f"only optional values of one type are supported, not {hint!r}")
        return _field_for(arguments[0], allow_null=True, **options)
    if origin in (list, tuple):
        item = arguments[0]
        if dataclasses.is_dataclass(item):
            return dataclass_serializer(typing.cast(type, item))(many=True, **options)
        return serializers.ListField(child=_field_for(item), **options)
    if dataclasses.is_dataclass(hint):
        return dataclass_serializer(typing.cast(type, hint))(**options)
    if hint is Decimal:  # rates and ratios, as exact decimal strings
        return serializers.DecimalField(max_digits=19, decimal_places=4, **options)
    if hint in _SCALARS:
        return _SCALARS[hint](**options)
    raise TypeError(f"no serializer field for {hint!r}")
