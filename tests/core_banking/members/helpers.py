"""Helpers of the members tests."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.test import Client
from PIL import Image

from core_banking.members.models import Member, MemberType
from core_banking.members.services import MemberData, NomineeData, member_create
from core_banking.organisation.models import Branch
from tests.conftest import Workspace, workspace_client


def new_member(
    *,
    branch: Branch | None = None,
    full_name: str = "Rahima Begum",
    national_id: str = "",
    phone: str = "",
    join_date: dt.date = dt.date(2024, 1, 15),
    nominees: tuple[NomineeData, ...] = (),
    actor: Any | None = None,
    **extra: Any,
) -> Member:
    return member_create(
        actor=actor,
        branch=branch or Branch.objects.get(code="BR1"),
        data=MemberData(
            full_name=full_name,
            member_type=MemberType.objects.get(code="ORD"),
            join_date=join_date,
            national_id=national_id,
            phone=phone,
            **extra,
        ),
        nominees=nominees,
    )


def logged_in(workspace: Workspace, username: str) -> Client:
    return workspace_client(workspace, username=username)


def image_bytes(
    size: tuple[int, int] = (2000, 1000),
    *,
    image_format: str = "PNG",
    mode: str = "RGB",
    colour: Any = (200, 30, 30),
    exif: Image.Exif | None = None,
) -> bytes:
    """A real picture made with Pillow: a coloured field with a darker left half (to see rotation)."""
    image = Image.new(mode, size, colour)
    if mode == "RGB":
        image.paste((20, 20, 120), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if exif is not None:
        options["exif"] = exif
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()
