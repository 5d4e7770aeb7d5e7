"""Loan documents as PDF (L7, L9): stored when issued, reprinted as stored, in the member's language
or the cooperative's.

Documents: the repayment schedule (a loan's, or an application's as projected), the loan contract,
a guarantee contract per guarantor, a payoff statement for a date, a repayment receipt, and a
member's yearly interest certificate.

One layout, the workspace's own wording. A document of kind ``<kind>`` renders
``lending/documents/<kind>.html``. What a workspace changes, from a page or the API, is its wording
per kind and language: the title, an opening paragraph, the clauses (contract, guarantee) and a
closing paragraph, with placeholders for the document's plain values (``core_banking.lending.wording``
says what may be written and renders it in a sandbox; ``services.document_template_save`` keeps each
version). The newest version for the document's kind and language is used; an empty field, or no
version at all, is the default wording of the template. The templates read it as ``custom``
(``{% if custom.opening %}``). ``document_preview`` draws a wording not yet saved against the newest
loan the user can see (or a made-up one, ``document_sample``) and stores nothing.

Stored and reprintable. Issuing a document renders it; if a copy of the same document (same subject,
kind, language, and the very same content) was stored before, that copy is served again; otherwise
the PDF is stored under the workspace's storage prefix (``workspaces/<schema>/lending/documents/
<subject>/<id>.pdf``) with a record beside it (``<id>.json``: kind, language, parameters, who issued
it and when, the PDF's SHA-256, and the subject's number and creation time, so that a copy never shows
under a later row that took the same id), and the issue is written to the audit trail. A stored copy
is served byte for byte, whatever has happened to the loan or the wording since; a document issued
after its wording changed reads differently, so it is a new copy.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending import page_selectors, selectors
from core_banking.lending import wording as wordings
from core_banking.lending.models import (
    Component,
    FeeKind,
    Guarantor,
    Loan,
    LoanApplication,
    LoanTransaction,
    LoanTransactionKind,
    PenaltyKind,
)
from core_banking.lending.templatetags.lending_display import doc_number
from core_banking.members.models import Member
from core_banking.members.services import workspace_storage_prefix
from core_banking.reporting import pdf_text
from core_banking.reporting.outputs import PDF_FONT_FAMILIES, Presentation
from tenants.db import current_cooperative, current_schema
from tenants.models import Cooperative


class DocumentKind(enum.StrEnum):
    SCHEDULE = "schedule"
    CONTRACT = "contract"
    GUARANTEE = "guarantee"
    PAYOFF = "payoff"
    RECEIPT = "receipt"
    INTEREST_CERTIFICATE = "interest_certificate"


TITLES = {
    DocumentKind.SCHEDULE: _("Repayment schedule"),
    DocumentKind.CONTRACT: _("Loan contract"),
    DocumentKind.GUARANTEE: _("Guarantee contract"),
    DocumentKind.PAYOFF: _("Payoff statement"),
    DocumentKind.RECEIPT: _("Repayment receipt"),
    DocumentKind.INTEREST_CERTIFICATE: _("Interest certificate"),
}

Subject = Loan | LoanApplication | Member
_NAME = re.compile(r"^[a-z_]+-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")
_SUBJECT = re.compile(r"^(loan|application|member)-[0-9]+$")


class DocumentUnavailable(ValueError):
    """The document cannot be made for this subject (e.g. a payoff of a closed loan)."""


@dataclass(frozen=True)
class StoredDocument:
    """One issued copy: its record, as stored beside the PDF."""

    subject: str
    name: str
    kind: str
    language: str
    params: dict[str, Any]
    issued_at: str
    issued_by: str
    sha256: str
    source_sha256: str
    size: int
    path: str
    schema: str = ""
    fingerprint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def issued(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.issued_at)

    @property
    def title(self) -> str:
        return str(TITLES[DocumentKind(self.kind)])

    @property
    def detail(self) -> str:
        """What distinguishes this copy from others of its kind (a date, a guarantor, a year)."""
        return str(self.params.get("label", ""))


def subject_key(subject: Subject) -> str:
    if isinstance(subject, Loan):
        return f"loan-{subject.pk}"
    if isinstance(subject, LoanApplication):
        return f"application-{subject.pk}"
    return f"member-{subject.pk}"


def subject_fingerprint(subject: Subject) -> str:
    """The subject's number and the moment it was made: a copy is shown only with the very row it was
    issued for, never with a later row that took the same id (a workspace restored from a backup)."""
    made = subject.application.created_at if isinstance(subject, Loan) else subject.created_at
    return f"{subject.number}@{made.isoformat()}"


def _folder(subject: str) -> str:
    return f"{workspace_storage_prefix()}lending/documents/{subject}/"


def document_language(member: Member | None, requested: str = "") -> str:
    """The language asked for if the product speaks it; else the member's; else the cooperative's."""
    spoken = {code for code, _name in settings.LANGUAGES}
    if requested in spoken:
        return requested
    if member is not None and member.message_language in spoken:
        return member.message_language
    cooperative = current_cooperative()
    return cooperative.default_language if cooperative is not None else settings.LANGUAGE_CODE


def language_choices(member: Member | None) -> list[str]:
    """The member's language and the cooperative's (once each), the member's first."""
    cooperative = current_cooperative()
    found = [document_language(member)]
    if cooperative is not None and cooperative.default_language not in found:
        found.append(cooperative.default_language)
    return found


# --- Rendering -----------------------------------------------------------------------------------------


def pdf_from_html(html: str) -> bytes:
    """WeasyPrint's PDF of ``html`` with a text layer that gives back Bangla and Thai as drawn."""
    from weasyprint import HTML

    with pdf_text.recording() as recorder:
        drawn = bytes(HTML(string=html).write_pdf())
    return pdf_text.exact_text(drawn, recorder)


def _cooperative() -> Cooperative:
    cooperative = current_cooperative()
    if cooperative is None:
        raise DocumentUnavailable(_("Documents are made inside a workspace."))
    return cooperative


def _loan_facts(product: Any, rows: list[page_selectors.ScheduleRow]) -> dict[str, Any]:
    """Terms in words, as a contract states them."""
    order = [str(Component(part).label) for part in product.allocation_order]
    return {
        "first_due": rows[0].due_date if rows else None,
        "last_due": rows[-1].due_date if rows else None,
        "installment_minor": rows[0].due_minor if rows else 0,
        "last_installment_minor": rows[-1].due_minor if rows else 0,
        "allocation_order": order,
        "fee_flat": product.fee_kind == FeeKind.FLAT,
        "fee_percent": product.fee_kind == FeeKind.PERCENT,
        "penalty_flat": product.penalty_kind == PenaltyKind.FLAT,
        "penalty_percent": product.penalty_kind == PenaltyKind.PERCENT,
    }


def _application_of(subject: Loan | LoanApplication) -> LoanApplication:
    return subject.application if isinstance(subject, Loan) else subject


def _schedule_of(subject: Loan | LoanApplication, today: dt.date) -> dict[str, Any]:
    if isinstance(subject, Loan):
        rows = page_selectors.loan_schedule(subject, today)
        return {"rows": rows, "totals": page_selectors.schedule_totals(rows), "projected": False}
    projected = page_selectors.application_projection(subject, today)
    if projected.problems:
        raise DocumentUnavailable("; ".join(m for ms in projected.problems.values() for m in ms))
    return {
        "rows": projected.rows,
        "totals": projected.totals,
        "projected": True,
        "fee_minor": projected.fee_minor,
    }


def _schedule_context(subject: Subject, params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    if isinstance(subject, Member):
        raise DocumentUnavailable(_("A schedule belongs to a loan or an application."))
    application = _application_of(subject)
    return {
        "loan": subject if isinstance(subject, Loan) else None,
        "application": application,
        "member": application.member,
        "product": application.product,
        **_schedule_of(subject, today),
    }


def _guarantors(application: LoanApplication) -> list[Guarantor]:
    return page_selectors.guarantors_of(application)


def _contract_context(subject: Subject, params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    context = _schedule_context(subject, params, today)
    application = context["application"]
    context.update(_loan_facts(application.product, context["rows"]))
    context["guarantors"] = _guarantors(application)
    context["fee_minor"] = page_selectors.disbursement_fee_minor(
        application.product, application.amount_minor
    )
    if application.refinances_id is not None and not isinstance(subject, Loan):
        context["refinance"] = page_selectors.refinance_figures(application, today)
    return context


def _guarantee_context(subject: Subject, params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    context = _contract_context(subject, params, today)
    guarantor = next((g for g in context["guarantors"] if g.pk == params.get("guarantor")), None)
    if guarantor is None:
        raise DocumentUnavailable(_("No such guarantor of this loan."))
    context["guarantor"] = guarantor
    context["guaranteed_minor"] = guarantor.liability_minor or context["application"].amount_minor
    return context


def _payoff_context(subject: Subject, params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    from core_banking.lending.services import loan_payoff_quote

    on_date = dt.date.fromisoformat(params["on"])
    if isinstance(subject, LoanApplication):
        # A refinance: the old loan's payoff on the day, and what the member receives after it.
        refinance = page_selectors.refinance_figures(subject, on_date)
        if refinance is None:
            raise DocumentUnavailable(_("This application refinances no active loan."))
        return {
            "application": subject,
            "member": subject.member,
            "loan": refinance.loan,
            "rows": page_selectors.loan_schedule(refinance.loan, today),
            "product": refinance.loan.product,
            "quote": refinance.payoff,
            "refinance": refinance,
            "on_date": on_date,
        }
    if not isinstance(subject, Loan):
        raise DocumentUnavailable(_("A payoff statement belongs to a loan."))
    try:
        quote = loan_payoff_quote(loan_id=subject.pk, on_date=on_date)
    except BusinessRuleViolation as error:
        if error.code == ErrorCode.LOAN_NOT_ACTIVE:
            raise DocumentUnavailable(_("The loan is not active: there is nothing to settle.")) from error
        raise DocumentUnavailable(_("No payoff before the loan was paid out.")) from error
    return {
        "loan": subject,
        "application": subject.application,
        "member": subject.member,
        "product": subject.product,
        "rows": page_selectors.loan_schedule(subject, today),
        "quote": quote,
        "on_date": on_date,
    }


def _receipt_context(subject: Subject, params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    if not isinstance(subject, Loan):
        raise DocumentUnavailable(_("A receipt belongs to a loan."))
    payment = (
        LoanTransaction.objects.select_related("loan", "savings_transaction__account")
        .filter(
            pk=int(params.get("transaction") or 0), loan_id=subject.pk, kind=LoanTransactionKind.REPAYMENT
        )
        .first()
    )
    if payment is None:
        raise DocumentUnavailable(_("No such repayment of this loan."))
    return {
        "loan": subject,
        "member": subject.member,
        "product": subject.product,
        "payment": payment,
        "reversed": hasattr(payment, "reversed_by"),
        "principal_after_minor": page_selectors.principal_outstanding_after(payment),
    }


def _certificate_context(subject: Subject, params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    if not isinstance(subject, Member):
        raise DocumentUnavailable(_("An interest certificate belongs to a member."))
    year = int(params["year"])
    lines = page_selectors.interest_paid_in_year(subject, year)
    return {
        "member": subject,
        "year": year,
        "lines": lines,
        "interest_minor": sum(line.interest_minor for line in lines),
        "penalty_minor": sum(line.penalty_minor for line in lines),
        "period_start": dt.date(year, 1, 1),
        "period_end": dt.date(year, 12, 31),
    }


_CONTEXTS: dict[DocumentKind, Callable[[Subject, dict[str, Any], dt.date], dict[str, Any]]] = {
    DocumentKind.SCHEDULE: _schedule_context,
    DocumentKind.CONTRACT: _contract_context,
    DocumentKind.GUARANTEE: _guarantee_context,
    DocumentKind.PAYOFF: _payoff_context,
    DocumentKind.RECEIPT: _receipt_context,
    DocumentKind.INTEREST_CERTIFICATE: _certificate_context,
}


def _placeholder_values(
    kind: DocumentKind, context: dict[str, Any], p: Presentation, today: dt.date
) -> dict[str, str]:
    """The document's plain values for the wording's placeholders (``wording.PLACEHOLDERS``): strings
    formatted for the document's language, never the objects they come from."""
    member = context.get("member")
    branch = context.get("branch")
    cooperative = context["cooperative"]
    values = {
        "cooperative_name": str(cooperative.name),
        "branch_name": str(branch.name) if branch is not None else "",
        "today": p.date(today),
        "member_name": str(member.full_name) if member is not None else "",
        "member_number": str(member.number) if member is not None else "",
    }
    loan: Loan | None = context.get("loan")
    if kind in (DocumentKind.SCHEDULE, DocumentKind.CONTRACT, DocumentKind.GUARANTEE, DocumentKind.PAYOFF):
        # Each of these has an application: the loan's, or (a refinance's payoff) the new one.
        application: LoanApplication = context["application"]
        terms = loan.application if loan is not None else application
        rows = context.get("rows") or []
        totals = context.get("totals") or page_selectors.schedule_totals(rows)
        values.update(
            {
                "loan_number": str(loan.number if loan is not None else application.number),
                "application_number": str(application.number),
                "product_name": str(context["product"].name),
                "amount": p.money(loan.principal_minor if loan is not None else application.amount_minor),
                "rate": f"{doc_number(terms.annual_rate, p)}%",
                "installments": doc_number(len(rows), p),
                "installment_amount": p.money(rows[0].due_minor) if rows else "",
                "first_due": p.date(rows[0].due_date) if rows else "",
                "last_due": p.date(rows[-1].due_date) if rows else "",
                "total_interest": p.money(totals.interest_minor),
                "total_to_repay": p.money(totals.due_minor),
            }
        )
    if kind == DocumentKind.GUARANTEE:
        guarantor = context["guarantor"]
        values.update(
            {
                "guarantor_name": str(guarantor.member.full_name),
                "guarantor_number": str(guarantor.member.number),
                "guaranteed_amount": p.money(context["guaranteed_minor"]),
            }
        )
    elif kind == DocumentKind.PAYOFF:
        values.update(
            {"payoff_date": p.date(context["on_date"]), "payoff_total": p.money(context["quote"].total_minor)}
        )
    elif kind == DocumentKind.RECEIPT and loan is not None:
        payment = context["payment"]
        values.update(
            {
                "loan_number": str(loan.number),
                "product_name": str(context["product"].name),
                "receipt_number": f"{loan.number}-R{payment.pk}",
                "date_paid": p.date(payment.value_date),
                "amount_received": p.money(payment.amount_minor),
                "principal_outstanding": p.money(context["principal_after_minor"]),
            }
        )
    elif kind == DocumentKind.INTEREST_CERTIFICATE:
        values.update(
            {
                "year": p.number(context["year"]),
                "period_start": p.date(context["period_start"]),
                "period_end": p.date(context["period_end"]),
                "interest_paid": p.money(context["interest_minor"]),
            }
        )
    return values


def _render(
    kind: DocumentKind,
    context: dict[str, Any],
    *,
    cooperative: Cooperative,
    language: str,
    today: dt.date,
    wording: wordings.Wording | None,
    preview: bool = False,
) -> str:
    """The template of ``kind`` over ``context`` with the wording (None: the newest saved version)."""
    presentation = Presentation.for_cooperative(cooperative, language)
    context.update(
        {
            "kind": str(kind),
            "title": str(TITLES[kind]),
            "p": presentation,
            "cooperative": cooperative,
            "issued_on": today,
            "language": language,
            "font_families": PDF_FONT_FAMILIES,
            "preview": preview,
        }
    )
    if "branch" not in context:
        holder = context.get("loan") or context.get("application") or context.get("member")
        context["branch"] = getattr(holder, "branch", None)
    if wording is None:
        wording = wordings.Wording.of(wordings.template_current(str(kind), language))
    custom = wordings.wording_render(
        str(kind), wording, _placeholder_values(kind, context, presentation, today)
    )
    context["custom"] = custom
    if custom.title:
        context["title"] = custom.title
    return get_template(f"lending/documents/{kind}.html").render(context)


def document_html(
    *,
    kind: DocumentKind,
    subject: Subject,
    language: str,
    params: dict[str, Any],
    wording: wordings.Wording | None = None,
) -> str:
    """The document as HTML, in ``language``, in the workspace's wording (or ``wording``, if given)."""
    cooperative = _cooperative()
    today = cooperative.business_date()
    with translation.override(language):
        context = _CONTEXTS[kind](subject, params, today)
        return _render(
            kind, context, cooperative=cooperative, language=language, today=today, wording=wording
        )


def _workspace_sample(
    kind: DocumentKind, visible_branch_ids: list[int] | None, today: dt.date
) -> dict[str, Any] | None:
    """The context of ``kind`` for the newest loan the user can see, or None when it has no such document."""
    loan = selectors.loans_visible(visible_branch_ids=visible_branch_ids).order_by("-id").first()
    if loan is None:
        return None
    subject: Subject = loan
    params: dict[str, Any] = {}
    if kind == DocumentKind.GUARANTEE:
        guarantor = loan.application.guarantors.order_by("id").first()
        if guarantor is None:
            return None
        params = {"guarantor": guarantor.pk}
    elif kind == DocumentKind.PAYOFF:
        params = {"on": today.isoformat()}
    elif kind == DocumentKind.RECEIPT:
        payment = (
            LoanTransaction.objects.filter(loan_id=loan.pk, kind=LoanTransactionKind.REPAYMENT)
            .order_by("-id")
            .first()
        )
        if payment is None:
            return None
        params = {"transaction": payment.pk}
    elif kind == DocumentKind.INTEREST_CERTIFICATE:
        subject, params = loan.member, {"year": today.year}
    try:
        return _CONTEXTS[kind](subject, params, today)
    except DocumentUnavailable:
        return None


def document_preview(
    *, kind: DocumentKind, language: str, wording: wordings.Wording, visible_branch_ids: list[int] | None
) -> bytes:
    """The PDF of ``kind`` in ``wording`` (not saved), for the newest loan of the workspace that the
    user can see, else a made-up one. Marked as a preview; nothing is stored or audited."""
    from core_banking.lending.document_sample import sample_context

    cooperative = _cooperative()
    today = cooperative.business_date()
    with translation.override(language):
        context = _workspace_sample(kind, visible_branch_ids, today)
        if context is None:
            context = sample_context(str(kind), Presentation.for_cooperative(cooperative, language), today)
        html = _render(
            kind,
            context,
            cooperative=cooperative,
            language=language,
            today=today,
            wording=wording,
            preview=True,
        )
    return pdf_from_html(html)


# --- Storing and reprinting -------------------------------------------------------------------------------


def _record(subject: str, name: str) -> StoredDocument | None:
    path = f"{_folder(subject)}{name}.json"
    if not default_storage.exists(path):
        return None
    with default_storage.open(path, "rb") as handle:
        data = json.loads(handle.read().decode())
    return StoredDocument(**data)


def documents_for(*subjects: Subject) -> list[StoredDocument]:
    """Every stored copy of the subjects' documents, newest first."""
    found = []
    for subject in subjects:
        key = subject_key(subject)
        folder = _folder(key)
        if not default_storage.exists(folder):
            continue
        fingerprint = subject_fingerprint(subject)
        _dirs, files = default_storage.listdir(folder)
        for file_name in files:
            if file_name.endswith(".json") and _NAME.match(file_name.removesuffix(".json")):
                record = _record(key, file_name.removesuffix(".json"))
                if record is not None and record.fingerprint == fingerprint:
                    found.append(record)
    return sorted(found, key=lambda record: (record.issued_at, record.name), reverse=True)


def document_read(subject: Subject, name: str) -> tuple[StoredDocument, bytes]:
    """A stored copy and its PDF bytes, as issued. ``LookupError`` when there is none."""
    key = subject_key(subject)
    if not _NAME.match(name) or not _SUBJECT.match(key):
        raise LookupError(name)
    record = _record(key, name)
    if (
        record is None
        or record.fingerprint != subject_fingerprint(subject)
        or not default_storage.exists(record.path)
    ):
        raise LookupError(name)
    with default_storage.open(record.path, "rb") as handle:
        return record, handle.read()


def _actor_label(actor: Any | None) -> str:
    if actor is None:
        return ""
    full_name = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return str(full_name or actor.get_username())


def document_issue(
    *,
    kind: DocumentKind,
    subject: Subject,
    language: str,
    actor: Any | None,
    params: dict[str, Any] | None = None,
    label: str = "",
) -> tuple[StoredDocument, bytes]:
    """The document as it reads now: the stored copy if nothing in it changed, else a new stored copy.

    ``params`` name what the document is of (a guarantor, a date, a repayment, a year) and must be
    JSON; ``label`` says it to a reader in the list of stored copies.
    """
    params = dict(params or {})
    html = document_html(kind=kind, subject=subject, language=language, params=params)
    source = hashlib.sha256(html.encode()).hexdigest()
    key = subject_key(subject)
    for earlier in documents_for(subject):
        if (earlier.kind, earlier.language, earlier.source_sha256) == (str(kind), language, source):
            try:
                return document_read(subject, earlier.name)
            except LookupError:
                break
    content = pdf_from_html(html)
    now = timezone.now()
    name = f"{kind}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    folder = _folder(key)
    path = default_storage.save(f"{folder}{name}.pdf", ContentFile(content))
    record = StoredDocument(
        subject=key,
        name=name,
        kind=str(kind),
        language=language,
        params={**params, "label": label},
        issued_at=now.isoformat(),
        issued_by=_actor_label(actor),
        sha256=hashlib.sha256(content).hexdigest(),
        source_sha256=source,
        size=len(content),
        path=path,
        schema=current_schema(),
        fingerprint=subject_fingerprint(subject),
    )
    default_storage.save(f"{folder}{name}.json", ContentFile(json.dumps(asdict(record)).encode()))
    audit_record(
        actor=actor,
        action="lending.document.issue",
        target=subject,
        changes={
            "kind": str(kind),
            "document": name,
            "language": language,
            "params": params,
            "sha256": record.sha256,
        },
    )
    return record, content


def download_name(record: StoredDocument) -> str:
    return f"{record.kind}-{record.subject}-{record.issued_at[:10]}.pdf"
