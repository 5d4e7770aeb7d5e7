"""A workspace's own wording of its loan documents (L7): what may be written, how it is checked, and
how it is rendered so that it reaches nothing but the document's plain values.

What a cooperative changes is the wording, not the layout. Per document kind (``FIELDS``): the
title, an opening paragraph, the clauses (the contract's "The borrower agrees", the guarantee's "The
guarantor agrees") and a closing paragraph above the signatures. Each empty field takes the default
wording (``default_wording`` gives it, in the document's language, as a starting point). The tables
(the schedule, the loan's facts, the figures) stay as the product lays them out.

Text may name placeholders, ``{{ member_name }}``, from a fixed list per kind (``PLACEHOLDERS``,
described in ``PLACEHOLDER_HELP``): each is a plain string, already formatted for the document's
language (money with its currency as the document writes it, dates, native digits). Conditions,
``{% if guarantor_name %}…{% else %}…{% endif %}``, and the filters in ``FILTERS`` are allowed;
nothing else (no loops, no attribute or item access, no calls, no other tags). ``wording_problems``
refuses, field by field: a syntax error, an unknown placeholder, anything not allowed, text too long.

Rendering uses Jinja's ``SandboxedEnvironment`` with autoescape, no globals, no tests, only the
filters above, and a context of plain strings (never a model instance): whatever a row holds, its
text reaches no object, setting or other workspace. The literal text is escaped as well: what a
cooperative writes is text, never HTML, so it cannot add an image, a link or a style to a PDF (nor
make WeasyPrint fetch a URL or a file). A line break in a paragraph or a clause starts a new line.
Text that fails the checks when rendered (a row written past the service) renders as the default.

The stored versions are ``DocumentTemplate`` rows, written only by
``core_banking.lending.services.document_template_save``; the reads are at the end of this module.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from jinja2 import TemplateError, nodes
from markupsafe import Markup, escape

from core_banking.lending.models import DocumentTemplate
from frontend.text_sandbox import TextSandbox

logger = logging.getLogger(__name__)

TITLE, OPENING, CLAUSES, CLOSING = "title", "opening", "clauses", "closing"
FIELD_LABELS: dict[str, Promise] = {
    TITLE: _("Title"),
    OPENING: _("Opening paragraph"),
    CLAUSES: _("Clauses"),
    CLOSING: _("Closing paragraph"),
}

# The fields each kind lets a cooperative word (kinds as core_banking.lending.documents.DocumentKind).
FIELDS: dict[str, tuple[str, ...]] = {
    "schedule": (TITLE, OPENING, CLOSING),
    "contract": (TITLE, OPENING, CLAUSES, CLOSING),
    "guarantee": (TITLE, OPENING, CLAUSES, CLOSING),
    "payoff": (TITLE, OPENING, CLOSING),
    "receipt": (TITLE, OPENING, CLOSING),
    "interest_certificate": (TITLE, OPENING, CLOSING),
}
KINDS = tuple(FIELDS)

MAX_TITLE = 200
MAX_PARAGRAPH = 2000
MAX_CLAUSE = 1000
MAX_CLAUSES = 20
FILTERS = ("upper", "lower", "capitalize", "title", "trim", "default")

_COMMON = ("cooperative_name", "branch_name", "today", "member_name", "member_number")
_LOAN = (
    "loan_number",
    "application_number",
    "product_name",
    "amount",
    "rate",
    "installments",
    "installment_amount",
    "first_due",
    "last_due",
    "total_interest",
    "total_to_repay",
)
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "schedule": (*_COMMON, *_LOAN),
    "contract": (*_COMMON, *_LOAN),
    "guarantee": (*_COMMON, *_LOAN, "guarantor_name", "guarantor_number", "guaranteed_amount"),
    "payoff": (*_COMMON, *_LOAN, "payoff_date", "payoff_total"),
    "receipt": (
        *_COMMON,
        "loan_number",
        "product_name",
        "receipt_number",
        "date_paid",
        "amount_received",
        "principal_outstanding",
    ),
    "interest_certificate": (*_COMMON, "year", "period_start", "period_end", "interest_paid"),
}
PLACEHOLDER_HELP: dict[str, Promise] = {
    "cooperative_name": _("the cooperative's name"),
    "branch_name": _("the branch of the loan, or of the member"),
    "today": _("the date the document is issued"),
    "member_name": _("the member's name (the borrower)"),
    "member_number": _("the member's number"),
    "loan_number": _("the loan number (before pay-out: the application number)"),
    "application_number": _("the application number"),
    "product_name": _("the loan product's name"),
    "amount": _("the principal, with the currency"),
    "rate": _("the annual interest rate, with the per cent sign"),
    "installments": _("the number of instalments"),
    "installment_amount": _("the first instalment"),
    "first_due": _("the first due date"),
    "last_due": _("the last due date"),
    "total_interest": _("the total interest of the schedule"),
    "total_to_repay": _("the total to repay"),
    "guarantor_name": _("the guarantor's name"),
    "guarantor_number": _("the guarantor's member number"),
    "guaranteed_amount": _("the amount guaranteed"),
    "payoff_date": _("the date the loan is settled on"),
    "payoff_total": _("the total that settles the loan"),
    "receipt_number": _("the receipt number"),
    "date_paid": _("the date of the payment"),
    "amount_received": _("the amount received"),
    "principal_outstanding": _("the principal still owed after this payment"),
    "year": _("the year certified"),
    "period_start": _("the first day of the year certified"),
    "period_end": _("the last day of the year certified"),
    "interest_paid": _("the interest paid in the year"),
}


@dataclass(frozen=True)
class Wording:
    """What a cooperative wrote for one kind and language; an empty field is the default wording."""

    title: str = ""
    opening: str = ""
    clauses: tuple[str, ...] = ()
    closing: str = ""

    @property
    def is_default(self) -> bool:
        return not (self.title or self.opening or self.clauses or self.closing)

    def cleaned(self) -> Wording:
        """Line ends made one kind, outer blanks and empty clauses dropped."""

        def tidy(text: str) -> str:
            return str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()

        return Wording(
            title=tidy(self.title),
            opening=tidy(self.opening),
            clauses=tuple(tidy(clause) for clause in self.clauses if tidy(clause)),
            closing=tidy(self.closing),
        )

    def as_dict(self) -> dict[str, Any]:
        return {TITLE: self.title, OPENING: self.opening, CLAUSES: list(self.clauses), CLOSING: self.closing}

    @classmethod
    def of(cls, row: DocumentTemplate | None) -> Wording:
        if row is None:
            return cls()
        return cls(row.title, row.opening, tuple(row.clauses or ()), row.closing)


@dataclass(frozen=True)
class RenderedWording:
    """The wording as it goes into a document: escaped HTML, empty where the default applies."""

    title: Markup
    opening: Markup
    clauses: tuple[Markup, ...]
    closing: Markup


# --- The sandbox --------------------------------------------------------------------------------------


_SANDBOX = TextSandbox(filters=FILTERS, autoescape=True)


def text_problems(kind: str, text: str, *, limit: int) -> list[str]:
    """Why ``text`` cannot be used in a document of ``kind`` (empty when it can)."""
    if len(text) > limit:
        return [
            gettext("At most %(limit)s characters; this has %(count)s.")
            % {"limit": limit, "count": len(text)}
        ]
    return _SANDBOX.problems(
        text,
        placeholders=PLACEHOLDERS[kind],
        example="member_name",
        unknown_message=gettext("Unknown placeholder: %(names)s. Use only those listed for this document."),
    )


def wording_problems(kind: str, wording: Wording) -> dict[str, list[str]]:
    """Field by field, why ``wording`` cannot be used for ``kind``; empty when it can."""
    problems: dict[str, list[str]] = {}
    editable = FIELDS[kind]
    limits = {TITLE: MAX_TITLE, OPENING: MAX_PARAGRAPH, CLOSING: MAX_PARAGRAPH}
    for name, limit in limits.items():
        text = getattr(wording, name)
        if not text:
            continue
        if name not in editable:
            problems[name] = [gettext("This document has no such part.")]
            continue
        found = text_problems(kind, text, limit=limit)
        if name == TITLE and "\n" in text:
            found.append(gettext("The title is one line."))
        if found:
            problems[name] = found
    if wording.clauses:
        if CLAUSES not in editable:
            problems[CLAUSES] = [gettext("This document has no clauses.")]
        elif len(wording.clauses) > MAX_CLAUSES:
            problems[CLAUSES] = [gettext("At most %(count)s clauses.") % {"count": MAX_CLAUSES}]
        else:
            found = [
                gettext("Clause %(number)s: %(problem)s") % {"number": number, "problem": problem}
                for number, clause in enumerate(wording.clauses, start=1)
                for problem in text_problems(kind, clause, limit=MAX_CLAUSE)
            ]
            if found:
                problems[CLAUSES] = found
    return problems


def _render_text(kind: str, text: str, values: Mapping[str, str], *, limit: int) -> Markup:
    """``text`` with its placeholders filled, as escaped HTML; empty (the default) if it fails a check."""
    if not text:
        return Markup("")
    if text_problems(kind, text, limit=limit):
        logger.warning("document wording for %s not usable: rendered as the default", kind)
        return Markup("")
    tree = _SANDBOX.environment.parse(text)
    for data in tree.find_all(nodes.TemplateData):
        data.data = str(escape(data.data))  # the cooperative's words are text, never markup
    known = {name: str(values.get(name, "")) for name in PLACEHOLDERS[kind]}
    try:
        html = _SANDBOX.environment.from_string(tree).render(known)
    except TemplateError:
        logger.warning("document wording for %s failed to render: rendered as the default", kind)
        return Markup("")
    lines = html.replace("\r\n", "\n").strip().split("\n")
    return Markup("<br>\n".join(lines))  # noqa: S704 - every part was escaped above


def wording_render(kind: str, wording: Wording, values: Mapping[str, str]) -> RenderedWording:
    """``wording`` for a document of ``kind`` with ``values`` (plain strings) in its placeholders."""
    editable = FIELDS[kind]
    title = _render_text(kind, wording.title, values, limit=MAX_TITLE) if TITLE in editable else Markup("")
    clauses: tuple[Markup, ...] = ()
    if CLAUSES in editable and len(wording.clauses) <= MAX_CLAUSES:
        clauses = tuple(_render_text(kind, text, values, limit=MAX_CLAUSE) for text in wording.clauses)
        if not all(clauses):
            clauses = ()  # one clause unusable: the default clauses, not a list with a hole
    return RenderedWording(
        title=Markup(" ".join(title.replace("<br>", " ").split())),  # noqa: S704 - escaped, whitespace only
        opening=_render_text(kind, wording.opening, values, limit=MAX_PARAGRAPH)
        if OPENING in editable
        else Markup(""),
        clauses=clauses,
        closing=_render_text(kind, wording.closing, values, limit=MAX_PARAGRAPH)
        if CLOSING in editable
        else Markup(""),
    )


# --- The default wording, as a starting point ------------------------------------------------------------

# The default templates' own sentences (the same msgids, so the same translations), with their
# variables named as this module's placeholders.
_DEFAULT_OPENINGS: dict[str, tuple[str, dict[str, str]]] = {
    "contract": (
        "This contract is made between %(cooperative)s (the cooperative) and %(member)s, member number "
        "%(number)s (the borrower).",
        {"cooperative": "cooperative_name", "member": "member_name", "number": "member_number"},
    ),
    "guarantee": (
        "%(guarantor)s, member number %(gnumber)s (the guarantor), guarantees to %(cooperative)s the "
        "repayment of the loan below by %(member)s, member number %(number)s (the borrower).",
        {
            "guarantor": "guarantor_name",
            "gnumber": "guarantor_number",
            "cooperative": "cooperative_name",
            "member": "member_name",
            "number": "member_number",
        },
    ),
    "interest_certificate": (
        "This certifies that %(member)s, member number %(number)s, paid the cooperative the following "
        "interest on loans from %(start)s to %(end)s.",
        {"member": "member_name", "number": "member_number", "start": "period_start", "end": "period_end"},
    ),
}
_DEFAULT_CLAUSES: dict[str, tuple[str, ...]] = {
    "contract": (
        "to repay the principal with interest in the instalments of the schedule below, on or before "
        "each due date;",
        "that payments are applied in the order stated above, and that overdue instalments bear the "
        "penalty stated above;",
        "that the loan may be repaid early at any time, paying the principal outstanding and the interest "
        "earned to that day;",
        "that the cooperative may recover what is overdue from the security and the guarantors named above.",
    ),
    "guarantee": (
        "to pay what the borrower owes and does not pay when due, up to the amount guaranteed, when the "
        "cooperative asks;",
        "that this guarantee stands until the loan is repaid in full, whatever time the cooperative gives "
        "the borrower;",
        "to tell the cooperative of any change of address, employment or income.",
    ),
}
_DEFAULT_CLOSINGS: dict[str, str] = {
    "payoff": "Interest not yet earned on the day of settlement is not charged.",
}


def default_wording(kind: str, title: str) -> Wording:
    """The default wording of ``kind`` in the active language, written with placeholders.

    ``title`` is the kind's default title (``documents.TITLES``), already in that language.
    """
    opening = ""
    if kind in _DEFAULT_OPENINGS:
        sentence, names = _DEFAULT_OPENINGS[kind]
        opening = gettext(sentence) % {key: "{{ " + name + " }}" for key, name in names.items()}
    return Wording(
        title=title,
        opening=opening,
        clauses=tuple(gettext(clause) for clause in _DEFAULT_CLAUSES.get(kind, ())),
        closing=gettext(_DEFAULT_CLOSINGS[kind]) if kind in _DEFAULT_CLOSINGS else "",
    )


# --- Reads -------------------------------------------------------------------------------------------------


def languages() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def template_current(kind: str, language: str) -> DocumentTemplate | None:
    """The newest saved version for (kind, language), or None when the default was never changed."""
    return DocumentTemplate.objects.filter(kind=kind, language=language).order_by("-version").first()


@dataclass(frozen=True)
class VersionView:
    row: DocumentTemplate
    saved_by: str

    @property
    def wording(self) -> Wording:
        return Wording.of(self.row)


def _with_names(rows: Sequence[DocumentTemplate]) -> list[VersionView]:
    users = get_user_model().objects.in_bulk({row.saved_by_id for row in rows if row.saved_by_id})
    return [
        VersionView(row, users[row.saved_by_id].get_username() if row.saved_by_id in users else "—")
        for row in rows
    ]


def template_history(kind: str, language: str, *, limit: int = 100) -> list[VersionView]:
    """The saved versions, newest first, with who saved each."""
    rows = list(DocumentTemplate.objects.filter(kind=kind, language=language).order_by("-version")[:limit])
    return _with_names(rows)


def templates_overview() -> dict[tuple[str, str], VersionView]:
    """The newest version of every (kind, language) that has one."""
    rows = list(
        DocumentTemplate.objects.order_by("kind", "language", "-version").distinct("kind", "language")
    )
    return {(view.row.kind, view.row.language): view for view in _with_names(rows)}
