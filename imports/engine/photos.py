"""Member photos and ID scans from a zip file, matched by member number. Plain Python: no Django.

A picture's member and kind come from its name: ``M0000123.jpg`` is member M0000123's photo,
``M0000123-id.jpg`` (or ``_id``, ``-id-front``) the front of their ID card, ``M0000123-id-back.jpg``
the back. A folder named ``photos``, ``id`` / ``id_front`` or ``id_back`` says the kind instead,
for pictures named by member number alone. Names are compared without case for the suffixes only:
member numbers are kept as written.

The zip is read from its directory: sizes and CRCs come without decompressing anything, so a dry
run over thousands of pictures is quick and a zip bomb is refused before it is opened. Whether a
picture is really an image is checked by its first bytes here, and fully (decoded, re-encoded) when
the import writes it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from imports.engine.i18n import gettext_noop

MAX_PICTURE_BYTES = 10 * 1024 * 1024  # as a picture uploaded on a member's page
MAX_ENTRIES = 250_000
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")  # JPEG, PNG, WebP (RIFF....WEBP)
_KIND_SUFFIX = re.compile(r"[-_ ](id[-_ ]?(front|back)?|nid)$", re.IGNORECASE)
_FOLDER_KINDS = {
    "photo": "photo",
    "photos": "photo",
    "id": "id_front",
    "id_front": "id_front",
    "id-front": "id_front",
    "ids": "id_front",
    "id_back": "id_back",
    "id-back": "id_back",
}
PHOTO, ID_FRONT, ID_BACK = "photo", "id_front", "id_back"


@dataclass(frozen=True)
class Picture:
    index: int  # 1-based position in the zip's directory, the "row" of its issues
    name: str  # as in the zip
    member_no: str
    kind: str  # photo | id_front | id_back
    size: int
    crc: int

    @property
    def key(self) -> str:
        return f"{self.member_no}|{self.kind}"

    @property
    def content_hash(self) -> str:
        """What tells one picture from another without reading it: its CRC and size."""
        return f"{self.crc:08x}:{self.size}"


@dataclass(frozen=True)
class PictureIssue:
    index: int | None
    name: str
    code: str
    message: str  # an English template (gettext_noop), with %(name)s


class ZipUnreadable(ValueError):
    pass


def _kind_and_member(path: PurePosixPath) -> tuple[str, str]:
    stem = path.stem.strip()
    match = _KIND_SUFFIX.search(stem)
    if match:
        kind = ID_BACK if (match.group(2) or "").lower() == "back" else ID_FRONT
        return kind, stem[: match.start()].strip()
    folder = path.parent.name.lower() if path.parent.name else ""
    return _FOLDER_KINDS.get(folder, PHOTO), stem


def pictures(data: bytes) -> tuple[list[Picture], list[PictureIssue]]:
    """The zip's pictures and what is wrong with the rest; raises ``ZipUnreadable`` for a bad zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ZipUnreadable(str(error)) from error
    found: list[Picture] = []
    issues: list[PictureIssue] = []
    seen: dict[str, str] = {}
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > MAX_ENTRIES:
            raise ZipUnreadable(f"more than {MAX_ENTRIES} files")
        for index, info in enumerate(entries, start=1):
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if path.name.startswith(".") or "__MACOSX" in path.parts:
                continue  # what archivers add beside the pictures
            issue = _problem(index, info, path, seen)
            if issue is not None:
                issues.append(issue)
                continue
            kind, member_no = _kind_and_member(path)
            picture = Picture(index, info.filename, member_no, kind, info.file_size, info.CRC)
            seen[picture.key] = info.filename
            found.append(picture)
    return found, issues


def _problem(
    index: int, info: zipfile.ZipInfo, path: PurePosixPath, seen: dict[str, str]
) -> PictureIssue | None:
    name = info.filename
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return PictureIssue(
            index, name, "picture_type", gettext_noop("%(name)s is not a JPEG, PNG, WebP or HEIC picture.")
        )
    if info.file_size > MAX_PICTURE_BYTES:
        return PictureIssue(index, name, "picture_too_large", gettext_noop("%(name)s is larger than 10 MB."))
    kind, member_no = _kind_and_member(path)
    if not member_no:
        return PictureIssue(
            index,
            name,
            "picture_name",
            gettext_noop("%(name)s: its name does not start with a member number."),
        )
    if f"{member_no}|{kind}" in seen:
        return PictureIssue(
            index,
            name,
            "picture_twice",
            gettext_noop("%(name)s: that member's picture of this kind is in the zip twice."),
        )
    return None


def picture_bytes(data: bytes, picture: Picture) -> bytes:
    """One picture's content, at most ``MAX_PICTURE_BYTES`` read whatever its header claims."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(picture.name) as handle:
        content = handle.read(MAX_PICTURE_BYTES + 1)
    if len(content) > MAX_PICTURE_BYTES:
        raise ZipUnreadable(f"{picture.name} is larger than its directory says")
    return content


def looks_like_picture(content: bytes) -> bool:
    """JPEG, PNG or WebP by their first bytes, or HEIC's ``ftyp`` box."""
    if content[4:8] == b"ftyp":
        return True
    return content.startswith(_MAGIC) and (not content.startswith(b"RIFF") or content[8:12] == b"WEBP")
