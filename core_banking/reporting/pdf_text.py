"""An exact text layer for WeasyPrint's PDFs in complex scripts (Bangla, Thai).

A PDF maps each character code of a font to one text (its ``ToUnicode`` map). WeasyPrint draws
through the font's glyph ids and gives each glyph the text it was first drawn with. HarfBuzz draws a
Bangla syllable as several glyphs (a vowel sign before its consonant, a reph after it), so one glyph
stands for different text in different words: "চ" drawn inside "মার্চ" carries "" and later takes
its letter out of "পরিচালন" when the PDF is searched, copied or read by a program.

The page is drawn right; only the text layer is wrong. Here, while WeasyPrint draws, the text of
every glyph it shows is recorded in order; afterwards, wherever a glyph stood for another text than
its first, that occurrence gets a character code of its own, mapped to the same glyph
(``CIDToGIDMap``) with the same width, and to its own text in ``ToUnicode``. A PDF whose glyphs
each carry one text (Latin, Vietnamese) is returned untouched; anything unexpected leaves the PDF
as WeasyPrint wrote it.
"""

from __future__ import annotations

import contextvars
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

MAX_CODE = 0xFFFF  # two-byte character codes (Identity-H)


@dataclass
class _FontRecord:
    glyph_count: int
    drawn: list[tuple[int, str]] = field(default_factory=list)  # (glyph id, its text), in drawing order


@dataclass
class TextRecorder:
    fonts: dict[str, _FontRecord] = field(default_factory=dict)  # by WeasyPrint's font resource name
    usable: bool = True

    def needs_codes_of_their_own(self) -> bool:
        for record in self.fonts.values():
            first: dict[int, str] = {}
            for glyph, text in record.drawn:
                if first.setdefault(glyph, text) != text:
                    return True
        return False


_RECORDER: contextvars.ContextVar[TextRecorder | None] = contextvars.ContextVar("pdf_text", default=None)


class _RecordingMap(dict[int, str]):
    """WeasyPrint's glyph-to-text map of one font that also records every glyph drawn.

    WeasyPrint asks ``glyph in map`` before working out a glyph's text; answering no makes it work
    it out, and store it, for every glyph it shows. The map keeps the first text, as WeasyPrint does.
    """

    def __init__(self, initial: dict[int, str], record: _FontRecord) -> None:
        super().__init__(initial)
        self.record = record

    def __contains__(self, glyph: object) -> bool:
        return False

    def __setitem__(self, glyph: int, text: str) -> None:
        self.record.drawn.append((glyph, text))
        if not dict.__contains__(self, glyph):
            super().__setitem__(glyph, text)


def _install() -> bool:
    """Wrap WeasyPrint's ``Stream.add_font`` once, so that fonts get a recording map when asked."""
    try:
        from weasyprint.pdf.stream import Stream
    except ImportError:  # pragma: no cover - a WeasyPrint that moved its internals
        return False
    original = Stream.add_font
    if getattr(original, "records_text", False):
        return True

    def add_font(self: Any, pango_font: Any) -> Any:
        font, font_size = original(self, pango_font)
        recorder = _RECORDER.get()
        if (
            recorder is None
            or not recorder.usable
            or isinstance(getattr(font, "to_unicode", None), _RecordingMap)
        ):
            return font, font_size  # not recording, or a font already met in this document
        try:
            known = not font.bitmap and font.hash not in recorder.fonts and font.to_unicode == {}
            glyph_count = int(font.glyph_count)
        except (AttributeError, TypeError, ValueError):
            known = False
        if known:
            record = recorder.fonts[font.hash] = _FontRecord(glyph_count=glyph_count)
            font.to_unicode = _RecordingMap(font.to_unicode, record)
        else:
            recorder.usable = False  # fonts this module does not know: leave the PDF alone
        return font, font_size

    add_font.records_text = True  # type: ignore[attr-defined]
    Stream.add_font = add_font
    return True


@contextmanager
def recording() -> Iterator[TextRecorder]:
    """Record the glyphs WeasyPrint draws inside the block (this thread or task only)."""
    recorder = TextRecorder(usable=_install())
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


class _Misaligned(Exception):
    """The PDF's glyphs are not the ones recorded, in the same order."""


@dataclass
class _Codes:
    """Character codes of one font: glyph ids themselves, plus one extra code per other text."""

    record: _FontRecord
    next_code: int
    position: int = 0
    first_text: dict[int, str] = field(default_factory=dict)
    extra: dict[tuple[int, str], int] = field(default_factory=dict)

    def code_for(self, glyph: int) -> int:
        if self.position >= len(self.record.drawn):
            raise _Misaligned("more glyphs than recorded")
        recorded_glyph, text = self.record.drawn[self.position]
        self.position += 1
        if recorded_glyph != glyph:
            raise _Misaligned(f"glyph {glyph} where {recorded_glyph} was drawn")
        if self.first_text.setdefault(glyph, text) == text:
            return glyph
        code = self.extra.get((glyph, text))
        if code is None:
            if self.next_code > MAX_CODE:
                raise _Misaligned("no character codes left")
            code = self.extra[(glyph, text)] = self.next_code
            self.next_code += 1
        return code


# What the recoding needs of a page's content as WeasyPrint writes it: font changes (``/F 9 Tf``),
# saved and restored graphics states (``q``, ``Q``) and the hex strings of shown glyphs. A literal
# string or an inline image is something else: the page is then left alone.
_CONTENT_TOKENS = re.compile(
    rb"/(?P<font>[^\s/<>\[\]()%]+)\s+[-+]?[\d.]+\s+Tf"
    rb"|<<|>>"
    rb"|<(?P<hex>[0-9A-Fa-f\s]*)>"
    rb"|(?<![\w/])(?P<state>[qQ])(?!\w)"
    rb"|(?P<unknown>\(|(?<![\w/])BI(?!\w))"
)


def _recode_content(data: bytes, codes_by_font: dict[str, _Codes]) -> bytes:
    font: str | None = None
    saved: list[str | None] = []

    def recode(match: re.Match[bytes]) -> bytes:
        nonlocal font
        if match["font"] is not None:
            font = match["font"].decode("latin-1")
        elif match["state"] == b"q":
            saved.append(font)
        elif match["state"] == b"Q":
            font = saved.pop() if saved else None
        elif match["unknown"] is not None:
            raise _Misaligned("content this module does not read")
        elif match["hex"] is not None:
            codes = codes_by_font.get(font or "")
            if codes is not None:
                glyphs = bytes.fromhex(match["hex"].decode("ascii"))
                if len(glyphs) % 2:
                    raise _Misaligned("a string of one-byte codes")
                recoded = [
                    codes.code_for(int.from_bytes(glyphs[index : index + 2], "big"))
                    for index in range(0, len(glyphs), 2)
                ]
                return b"<" + "".join(f"{code:04x}" for code in recoded).encode("ascii") + b">"
        return match[0]

    return _CONTENT_TOKENS.sub(recode, data)


def _widths(array: Any) -> dict[int, Any]:
    from pypdf.generic import ArrayObject

    widths: dict[int, Any] = {}
    index = 0
    while index < len(array):
        start = int(array[index])
        following = array[index + 1]
        if isinstance(following, ArrayObject):
            for offset, width in enumerate(following):
                widths[start + offset] = width
            index += 2
        else:
            for code in range(start, int(following) + 1):
                widths[code] = array[index + 2]
            index += 3
    return widths


def _widths_array(widths: dict[int, Any]) -> Any:
    from pypdf.generic import ArrayObject, NumberObject

    array = ArrayObject()
    run: Any = None
    previous = None
    for code in sorted(widths):
        if previous is None or code != previous + 1:
            array.append(NumberObject(code))
            run = ArrayObject()
            array.append(run)
        run.append(widths[code])
        previous = code
    return array


def _to_unicode_cmap(texts: dict[int, str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <ffff>",
        "endcodespacerange",
    ]
    items = sorted(texts.items())
    for start in range(0, len(items), 100):
        batch = items[start : start + 100]
        lines.append(f"{len(batch)} beginbfchar")
        lines.extend(f"<{code:04x}> <{text.encode('utf-16-be').hex()}>" for code, text in batch)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode()


def _rewrite_font(writer: Any, font: Any, codes: _Codes) -> None:
    from pypdf.generic import NameObject, StreamObject

    if font.get("/Encoding") != "/Identity-H":
        raise _Misaligned("a font that is not Identity-H")
    descendant = font["/DescendantFonts"][0].get_object()
    if descendant.get("/CIDToGIDMap") != "/Identity":
        raise _Misaligned("a font with its own CID map")
    glyph_of = {code: glyph for (glyph, _text), code in codes.extra.items()}
    widths = _widths(descendant.get("/W", []))
    for code, glyph in glyph_of.items():
        widths[code] = widths.get(glyph, 0)
    descendant[NameObject("/W")] = _widths_array(widths)
    largest = max(glyph_of)
    cid_to_gid = b"".join(glyph_of.get(code, code).to_bytes(2, "big") for code in range(largest + 1))
    cid_map = StreamObject()
    cid_map.set_data(cid_to_gid)
    # Streams must be indirect objects; pypdf's writer adds them with ``_add_object``.
    descendant[NameObject("/CIDToGIDMap")] = writer._add_object(cid_map.flate_encode())
    texts = dict(codes.first_text)
    texts.update({code: text for (_glyph, text), code in codes.extra.items()})
    to_unicode = StreamObject()
    to_unicode.set_data(_to_unicode_cmap(texts))
    font[NameObject("/ToUnicode")] = writer._add_object(to_unicode.flate_encode())


def _rewrite(pdf: bytes, recorder: TextRecorder) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    codes_by_font = {
        name: _Codes(record=record, next_code=max(record.glyph_count, 1 + max(g for g, _t in record.drawn)))
        for name, record in recorder.fonts.items()
        if record.drawn
    }
    fonts: dict[str, Any] = {}
    for page in writer.pages:
        content = page.get_contents()
        if content is None:
            continue
        content.set_data(_recode_content(content.get_data(), codes_by_font))
        page.replace_contents(content)
        page.compress_content_streams()
        resources: Any = page["/Resources"].get_object()
        for name, font in resources.get("/Font", {}).items():
            fonts.setdefault(str(name).lstrip("/"), font.get_object())
    for name, codes in codes_by_font.items():
        if codes.position != len(codes.record.drawn):
            raise _Misaligned(f"font {name}: {len(codes.record.drawn) - codes.position} glyphs not found")
        if codes.extra:
            if name not in fonts:
                raise _Misaligned(f"font {name} is not on any page")
            _rewrite_font(writer, fonts[name], codes)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def exact_text(pdf: bytes, recorder: TextRecorder) -> bytes:
    """The PDF with a text layer that gives back every word as drawn (or as it was, if unsure)."""
    if not recorder.usable or not recorder.needs_codes_of_their_own():
        return pdf
    try:
        return _rewrite(pdf, recorder)
    except _Misaligned as problem:
        logger.warning("PDF text layer left as drawn: %s", problem)
        return pdf
