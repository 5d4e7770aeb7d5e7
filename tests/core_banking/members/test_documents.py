"""Photos and ID scans: checked by content, re-encoded, stripped, thumbnailed and stored per workspace."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.members.images import MAX_UPLOAD_BYTES
from core_banking.members.models import MemberDocument
from core_banking.members.services import member_document_upload
from tests.conftest import Workspace
from tests.core_banking.members.helpers import image_bytes, new_member

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def stored_image(path: str) -> Image.Image:
    with default_storage.open(path, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def test_a_png_is_re_encoded_as_a_jpeg_with_a_thumbnail_under_the_workspace_prefix(
    in_alpha: Workspace,
) -> None:
    member = new_member()
    admin = User.objects.get(username="alpha-admin")
    document = member_document_upload(
        actor=admin, member=member, kind="photo", content=image_bytes((2000, 1000))
    )
    prefix = f"workspaces/coop_alpha/members/{member.pk}/"
    assert document.storage_path.startswith(prefix) and document.storage_path.endswith(".jpg")
    assert document.thumbnail_path.startswith(prefix)
    main = stored_image(document.storage_path)
    assert (main.format, main.size) == ("JPEG", (1600, 800))
    assert (document.width, document.height, document.content_type) == (1600, 800, "image/jpeg")
    thumbnail = stored_image(document.thumbnail_path)
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (240, 120))
    with default_storage.open(document.storage_path, "rb") as handle:
        content = handle.read()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size_bytes == len(content)
    assert document.uploaded_by_id == admin.pk
    event = AuditEvent.objects.get(action="member.document.upload", object_id=str(member.pk))
    assert event.changes["kind"] == "photo" and event.changes["source_format"] == "PNG"


def test_exif_is_applied_then_stripped(in_alpha: Workspace) -> None:
    """A portrait photo stored sideways with "rotate 90°" in its EXIF, and a GPS position."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was held upright: turn 90° clockwise to view
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD)[2] = (23.0, 48.0, 0.0)  # GPS latitude: where the member lives
    sideways = image_bytes((800, 600), image_format="JPEG", exif=exif)
    assert Image.open(io.BytesIO(sideways)).getexif()[ORIENTATION] == 6
    document = member_document_upload(actor=None, member=new_member(), kind="photo", content=sideways)
    stored = stored_image(document.storage_path)
    assert stored.size == (600, 800)  # upright now
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info and "icc_profile" not in stored.info
    # The dark half was on the left; turned clockwise it is at the top.
    top, bottom = stored.getpixel((300, 50)), stored.getpixel((300, 750))
    assert sum(top) < sum(bottom)  # type: ignore[arg-type]


def test_transparency_becomes_white(in_alpha: Workspace) -> None:
    content = image_bytes((300, 300), mode="RGBA", colour=(0, 0, 0, 0))
    document = member_document_upload(actor=None, member=new_member(), kind="id_front", content=content)
    assert stored_image(document.storage_path).getpixel((150, 150)) == (255, 255, 255)


def test_webp_is_accepted(in_alpha: Workspace) -> None:
    content = image_bytes((400, 300), image_format="WEBP")
    document = member_document_upload(actor=None, member=new_member(), kind="id_back", content=content)
    assert (document.width, document.height) == (400, 300)  # small pictures are not enlarged


def test_a_new_upload_keeps_the_previous_one_but_not_as_current(in_alpha: Workspace) -> None:
    member = new_member()
    first = member_document_upload(actor=None, member=member, kind="photo", content=image_bytes((300, 300)))
    second = member_document_upload(actor=None, member=member, kind="photo", content=image_bytes((400, 300)))
    scan = member_document_upload(actor=None, member=member, kind="id_front", content=image_bytes((300, 200)))
    first.refresh_from_db()
    assert not first.is_current and second.is_current and scan.is_current
    assert default_storage.exists(first.storage_path)  # kept
    assert set(
        MemberDocument.objects.filter(member=member, is_current=True).values_list("pk", flat=True)
    ) == {
        second.pk,
        scan.pk,
    }


def test_a_file_that_is_not_a_picture_is_refused(in_alpha: Workspace) -> None:
    member = new_member()
    for content in (b"%PDF-1.7 not a picture", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b""):
        with pytest.raises(BusinessRuleViolation) as raised:
            member_document_upload(actor=None, member=member, kind="photo", content=content)
        assert raised.value.code == ErrorCode.DOCUMENT_NOT_AN_IMAGE
    gif = image_bytes((50, 50), image_format="GIF")  # a picture, but not a camera format we take
    with pytest.raises(BusinessRuleViolation) as raised:
        member_document_upload(actor=None, member=member, kind="photo", content=gif)
    assert raised.value.code == ErrorCode.DOCUMENT_NOT_AN_IMAGE
    assert not MemberDocument.objects.exists()


def test_a_heic_photo_gets_a_clear_answer(in_alpha: Workspace) -> None:
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(BusinessRuleViolation) as raised:
        member_document_upload(actor=None, member=new_member(), kind="photo", content=heic_header)
    assert raised.value.code == ErrorCode.DOCUMENT_FORMAT_UNSUPPORTED
    assert "HEIC" in raised.value.fields["file"][0]


def test_a_damaged_picture_is_refused(in_alpha: Workspace) -> None:
    truncated = image_bytes((600, 600), image_format="JPEG")[:400]
    with pytest.raises(BusinessRuleViolation) as raised:
        member_document_upload(actor=None, member=new_member(), kind="photo", content=truncated)
    assert raised.value.code == ErrorCode.DOCUMENT_NOT_AN_IMAGE


def test_a_file_over_10_mb_is_refused(in_alpha: Workspace) -> None:
    content = image_bytes((100, 100)) + b"\x00" * MAX_UPLOAD_BYTES
    with pytest.raises(BusinessRuleViolation) as raised:
        member_document_upload(actor=None, member=new_member(), kind="photo", content=content)
    assert raised.value.code == ErrorCode.DOCUMENT_TOO_LARGE
    assert raised.value.http_status == 413


def test_a_decompression_bomb_is_refused_before_decoding(in_alpha: Workspace) -> None:
    """A few kilobytes that declare 100 megapixels."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(BusinessRuleViolation) as raised:
        member_document_upload(actor=None, member=new_member(), kind="photo", content=buffer.getvalue())
    assert raised.value.code == ErrorCode.DOCUMENT_TOO_LARGE
    assert raised.value.fields == {"file": ["The picture has too many pixels."]}


def test_an_unknown_kind_is_refused(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        member_document_upload(actor=None, member=new_member(), kind="selfie", content=image_bytes())
    assert raised.value.code == ErrorCode.VALIDATION_ERROR
