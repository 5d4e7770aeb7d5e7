"""A workspace's own wording of its loan documents (L7): saved from a page or the API as versions,
used by every document issued after, per language; checked on save; rendered in a sandbox that
reaches nothing but plain values; never seen by another workspace."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django_tenants.utils import tenant_context
from pypdf import PdfReader
from rest_framework.authtoken.models import Token

from control_plane.audit.models import AuditEvent
from control_plane.identity.models import User
from core_banking.lending import documents, wording
from core_banking.lending.documents import DocumentKind
from core_banking.lending.models import DocumentTemplate
from core_banking.lending.services import document_template_save, loan_repay
from tests.conftest import ALPHA, BETA, workspace_client
from tests.core_banking.lending.page_fixtures import (  # noqa: F401 - fixtures
    EMI,
    PRINCIPAL,
    Book,
    _media_in_tmp,
    book_fixture,
)
from tests.core_banking.lending.test_documents import bdt, pdf_text
from tests.core_banking.savings.page_helpers import client_for

pytestmark = pytest.mark.django_db

API = "/api/v1/lending/document-templates/"
CONTRACT = {
    "title": "Loan agreement of {{ cooperative_name }}",
    "opening": "Agreed on {{ today }} with {{ member_name }} ({{ member_number }}) for {{ amount }} "
    "at {{ rate }} a year.",
    "clauses": "The borrower keeps the rickshaw van insured.\nThe borrower attends the weekly meeting.",
    "closing": "Signed at {{ branch_name }} in two copies.",
}


def _put(client: Client, url: str, body: Any, **extra: Any) -> Any:
    return client.put(url, body, content_type="application/json", **extra)


def _text(response: Any) -> str:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    return " ".join(pdf_text(response.content)[0].split())


def _save_from_page(client: Client, kind: str, language: str, data: dict[str, str]) -> Any:
    return client.post(f"/lending/document-templates/{kind}/{language}/", data)


def test_a_saved_wording_is_in_every_contract_issued_after_it(book: Book) -> None:
    admin = client_for(ALPHA.admin)
    loan = book.loan
    before = admin.get(f"/lending/loans/{loan.pk}/documents/contract/?lang=en")
    assert "to repay the principal with interest" in _text(before)

    saved = _save_from_page(admin, "contract", "en", CONTRACT)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    after = admin.get(f"/lending/loans/{loan.pk}/documents/contract/?lang=en")
    text = _text(after)
    assert "Loan agreement of Alpha Cooperative" in text
    assert (
        f"with {book.borrower.full_name} ({book.borrower.number}) for {bdt(PRINCIPAL)} at 12% a year" in text
    )
    assert "The borrower keeps the rickshaw van insured." in text
    assert "The borrower attends the weekly meeting." in text
    assert f"Signed at {loan.branch.name} in two copies." in text
    assert "to repay the principal with interest" not in text  # the clauses replaced, not added to
    assert bdt(EMI) in text and loan.number in text  # the tables as they were
    # New wording, new content: a new stored copy; the one issued before is served byte for byte.
    assert after["X-Document-Id"] != before["X-Document-Id"]
    reprint = admin.get(f"/lending/documents/loan-{loan.pk}/{before['X-Document-Id']}.pdf")
    assert reprint.content == before.content
    # The same wording again gives the same content: the stored copy, not another one.
    again = admin.get(f"/lending/loans/{loan.pk}/documents/contract/?lang=en")
    assert again["X-Document-Id"] == after["X-Document-Id"]
    # Other kinds keep the default.
    schedule = _text(admin.get(f"/lending/loans/{loan.pk}/documents/schedule/?lang=en"))
    assert "Repayment schedule" in schedule and "Loan agreement" not in schedule


def test_the_wording_follows_the_documents_language(book: Book) -> None:
    document_template_save(
        actor=None, kind="contract", language="vi", title="Hợp đồng vay vốn của hợp tác xã", opening=""
    )
    document_template_save(actor=None, kind="contract", language="en", title="Members' loan agreement")
    admin = client_for(ALPHA.admin)
    vietnamese = _text(admin.get(f"/lending/loans/{book.loan.pk}/documents/contract/?lang=vi"))
    english = _text(admin.get(f"/lending/loans/{book.loan.pk}/documents/contract/?lang=en"))
    bangla = _text(admin.get(f"/lending/loans/{book.loan.pk}/documents/contract/?lang=bn"))
    assert "Hợp đồng vay vốn của hợp tác xã" in vietnamese and "Members' loan agreement" not in vietnamese
    assert "Members' loan agreement" in english and "Hợp đồng" not in english
    assert "Members' loan agreement" not in bangla and "Hợp đồng" not in bangla  # bn: the default


def test_every_placeholder_of_every_kind_carries_its_plain_value(book: Book) -> None:
    payment = loan_repay(
        actor=None,
        loan_id=book.loan.pk,
        amount_minor=EMI,
        value_date=book.loan.disbursed_on,
        idempotency_key="t",
    )
    guarantor = book.application.guarantors.get()
    params: dict[DocumentKind, dict[str, Any]] = {
        DocumentKind.SCHEDULE: {},
        DocumentKind.CONTRACT: {},
        DocumentKind.GUARANTEE: {"guarantor": guarantor.pk},
        DocumentKind.PAYOFF: {"on": "2026-03-05"},
        DocumentKind.RECEIPT: {"transaction": payment.pk},
        DocumentKind.INTEREST_CERTIFICATE: {"year": 2026},
    }
    html: dict[DocumentKind, str] = {}
    for kind, given in params.items():
        names = wording.PLACEHOLDERS[kind]
        line = " | ".join(f"{name}=[{{{{ {name} }}}}]" for name in names)
        document_template_save(actor=None, kind=kind, language="en", opening=line)
        subject = book.borrower if kind == DocumentKind.INTEREST_CERTIFICATE else book.loan
        html[kind] = documents.document_html(kind=kind, subject=subject, language="en", params=given)
        for name in names:
            assert f"{name}=[" in html[kind] and f"{name}=[]" not in html[kind], (kind, name)
        assert f"member_name=[{book.borrower.full_name}]" in html[kind]
        assert "cooperative_name=[Alpha Cooperative]" in html[kind]
        assert f"branch_name=[{book.loan.branch.name}]" in html[kind]
    contract = html[DocumentKind.CONTRACT]
    assert f"amount=[{bdt(PRINCIPAL)}]" in contract and "rate=[12%]" in contract
    assert f"loan_number=[{book.loan.number}]" in contract and "installments=[12]" in contract
    assert f"installment_amount=[{bdt(EMI)}]" in contract
    guarantee = html[DocumentKind.GUARANTEE]
    assert f"guarantor_name=[{book.guarantor.full_name}]" in guarantee
    assert f"guaranteed_amount=[{bdt(50_000_00)}]" in guarantee
    assert f"receipt_number=[{book.loan.number}-R{payment.pk}]" in html[DocumentKind.RECEIPT]
    assert f"amount_received=[{bdt(EMI)}]" in html[DocumentKind.RECEIPT]
    assert "year=[2026]" in html[DocumentKind.INTEREST_CERTIFICATE]


def test_unknown_placeholders_and_syntax_errors_are_refused_by_field_and_nothing_is_stored(
    book: Book,
) -> None:
    admin = client_for(ALPHA.admin)  # reading English; the messages follow the reader's language
    refused = _put(
        admin,
        f"{API}contract/en/",
        {
            "title": "x" * 201,
            "opening": "Dear {{ borrower }},",
            "clauses": ["Fine {{ member_name }}", "Broken {{ member_name"],
            "closing": "{% if member_name %}unclosed",
        },
    )
    assert refused.status_code == 400, refused.content
    error = refused.json()["error"]
    assert error["code"] == "validation_error"
    fields = error["fields"]
    assert set(fields) == {"title", "opening", "clauses", "closing"}
    assert "At most 200 characters" in fields["title"][0]
    assert "Unknown placeholder: borrower" in fields["opening"][0]
    assert fields["clauses"][0].startswith("Clause 2: The placeholders cannot be read on line 1")
    assert "cannot be read" in fields["closing"][0]
    in_bangla = _put(client_for(ALPHA.admin, language="bn"), f"{API}contract/en/", {"opening": "{{ x }}"})
    assert in_bangla.json()["error"]["fields"]["opening"] == [
        "অজানা স্থানধারক: x। শুধু এই নথির তালিকার স্থানধারক ব্যবহার করুন।"
    ]
    # A part the document does not have.
    no_clauses = _put(admin, f"{API}receipt/en/", {"clauses": ["Paid in full."]})
    assert no_clauses.status_code == 400 and "clauses" in no_clauses.json()["error"]["fields"]
    # A placeholder of another kind is unknown here.
    other_kind = _put(admin, f"{API}contract/en/", {"opening": "{{ receipt_number }}"})
    assert "receipt_number" in other_kind.json()["error"]["fields"]["opening"][0]
    # The page says the same, on the field, and saves nothing.
    page = _save_from_page(client_for(ALPHA.admin), "contract", "en", {"opening": "Dear {{ borrower }},"})
    assert page.status_code == 200 and "Unknown placeholder: borrower" in page.content.decode()
    assert DocumentTemplate.objects.count() == 0
    assert not AuditEvent.objects.filter(action="lending.document_template.save").exists()
    # Too many clauses, too long a clause.
    many = _put(admin, f"{API}contract/en/", {"clauses": [f"Clause {n}" for n in range(21)]})
    assert "At most 20 clauses" in many.json()["error"]["fields"]["clauses"][0]
    long_clause = _put(admin, f"{API}contract/en/", {"clauses": ["y" * 1001]})
    assert "Clause 1: At most 1000 characters" in long_clause.json()["error"]["fields"]["clauses"][0]
    assert DocumentTemplate.objects.count() == 0


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler }}",
    "{{ range(10) }}",
    "{{ member_name.__class__ }}",
    "{{ member_name['__class__'] }}",
    "{{ member_name|attr('__class__') }}",
    "{{ member_name.upper() }}",
    "{% for c in member_name %}{% for d in member_name %}x{% endfor %}{% endfor %}",
    "{% set x = 1 %}",
    "{% include 'base.html' %}",
    "{% macro m() %}{% endmacro %}",
    "{{ self }}",
    "{{ request }}",
    "{{ settings.SECRET_KEY }}",
    "{{ lipsum() }}",
    "{{ '{0.__class__}'.format(member_name) }}",
    "{{ " + "(" * 1500 + " }}",
]


def test_sandbox_escapes_are_refused_on_save_and_render_harmlessly_if_stored_anyway(book: Book) -> None:
    admin = workspace_client(ALPHA, username=ALPHA.admin)
    for attempt in ESCAPES:
        refused = _put(admin, f"{API}contract/en/", {"opening": attempt})
        assert refused.status_code == 400, (attempt, refused.content)
        assert refused.json()["error"]["fields"]["opening"], attempt
    assert DocumentTemplate.objects.count() == 0
    # Rows written past the service (a restored backup, a hand edit): the document still renders,
    # the refused text as the default, and nothing of Python's objects or settings comes out.
    for version, attempt in enumerate(ESCAPES, start=1):
        DocumentTemplate.objects.create(
            kind="contract",
            language="en",
            version=version,
            title=attempt[:200],
            opening=attempt,
            clauses=[attempt],
            closing=attempt,
            saved_at=book.loan.application.created_at,
        )
        html = documents.document_html(
            kind=DocumentKind.CONTRACT, subject=book.loan, language="en", params={}
        )
        for leak in ("<class", "mro", "__globals__", "SECRET", "range(", "Lorem"):
            assert leak not in html, (attempt, leak)
        assert "This contract is made between" in html  # the default opening
    rendered = wording.wording_render(
        "contract", wording.Wording(opening="{{ ''.__class__.__mro__ }}"), {"member_name": "A"}
    )
    assert rendered.opening == ""


def test_what_a_cooperative_writes_is_text_never_markup(book: Book) -> None:
    markup = (
        '<a rel="attachment" href="file:///etc/passwd">terms</a> <img src="http://127.0.0.1:9/x.png"> '
        "<b>{{ member_name }}</b>"
    )
    document_template_save(actor=None, kind="contract", language="en", opening=markup)
    book.borrower.full_name = "<i>Rahima</i> & Co"
    book.borrower.save(update_fields=["full_name"])
    rendered = wording.wording_render(
        "contract", wording.Wording(opening=markup), {"member_name": "<i>R</i>"}
    )
    assert "<a " not in rendered.opening and "<img" not in rendered.opening and "<b>" not in rendered.opening
    assert "&lt;a rel=" in rendered.opening and "&lt;i&gt;R&lt;/i&gt;" in rendered.opening
    response = client_for(ALPHA.admin).get(f"/lending/loans/{book.loan.pk}/documents/contract/?lang=en")
    text = _text(response)
    assert '<a rel="attachment" href="file:///etc/passwd">terms</a>' in text  # printed as typed
    assert "<b><i>Rahima</i> & Co</b>" in text
    assert PdfReader(io.BytesIO(response.content)).attachments == {}  # nothing fetched into the PDF


def test_only_who_manages_the_organisation_changes_the_wording(book: Book, staff: dict[str, Any]) -> None:
    teller = workspace_client(ALPHA, username="teller")  # an accountant: posts, does not manage
    refused = _put(teller, f"{API}contract/en/", {"title": "Mine"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert teller.get(f"{API}contract/en/").status_code == 200  # reading is for every staff member
    page = client_for("teller")
    assert _save_from_page(page, "contract", "en", {"title": "Mine"}).status_code == 403
    assert page.post("/lending/document-templates/contract/en/preview/", {"title": "Mine"}).status_code == 403
    assert page.post("/lending/document-templates/contract/en/restore/").status_code == 403
    assert page.post("/lending/document-templates/contract/en/check/", {"title": "x"}).status_code == 403
    shown = page.get("/lending/document-templates/contract/en/")
    assert shown.status_code == 200 and "Save the wording" not in shown.content.decode()
    auditor = workspace_client(ALPHA, username="auditor")
    assert _put(auditor, f"{API}contract/en/", {"title": "Mine"}).status_code == 403
    assert Client(HTTP_HOST=ALPHA.host).get(f"{API}contract/en/").status_code == 401
    assert DocumentTemplate.objects.count() == 0


def test_every_save_is_a_version_and_restoring_the_default_is_one_too(book: Book) -> None:
    page = client_for(ALPHA.admin)
    assert _save_from_page(page, "guarantee", "en", {"title": "Surety bond"}).status_code == 302
    assert (
        _save_from_page(
            page, "guarantee", "en", {"title": "Surety bond", "clauses": "Pays within 30 days."}
        ).status_code
        == 302
    )
    guarantor = book.application.guarantors.get()
    url = f"/lending/loans/{book.loan.pk}/documents/guarantee/?guarantor={guarantor.pk}&lang=en"
    custom = _text(page.get(url))
    assert "Surety bond" in custom and "Pays within 30 days." in custom
    assert page.post("/lending/document-templates/guarantee/en/restore/").status_code == 302
    restored = _text(page.get(url))
    assert "Surety bond" not in restored and "Guarantee contract" in restored
    assert "to pay what the borrower owes" in restored

    state = workspace_client(ALPHA, username=ALPHA.admin).get(f"{API}guarantee/en/").json()
    assert (state["custom"], state["version"], state["saved_by"]) == (False, 3, ALPHA.admin)
    assert [(v["version"], v["default"], v["title"]) for v in state["history"]] == [
        (3, True, ""),
        (2, False, "Surety bond"),
        (1, False, "Surety bond"),
    ]
    assert state["history"][1]["clauses"] == ["Pays within 30 days."]
    assert {v["saved_by"] for v in state["history"]} == {ALPHA.admin}
    events = AuditEvent.objects.filter(action="lending.document_template.save").order_by("id")
    assert [e.changes["version"] for e in events] == [1, 2, 3]
    assert events[1].changes["changed"] == {"clauses": [[], ["Pays within 30 days."]]}
    assert events[2].changes["default"] is True and events[0].actor_label == ALPHA.admin
    # The page shows the history and who saved each version; the overview says default again.
    shown = page.get("/lending/document-templates/guarantee/en/").content.decode()
    assert "Surety bond" in shown and ALPHA.admin in shown and "Restore the default wording" not in shown
    # History is never edited: PostgreSQL refuses it.
    for change in (
        lambda: DocumentTemplate.objects.filter(version=1).update(title="Rewritten"),
        lambda: DocumentTemplate.objects.filter(version=1).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert DocumentTemplate.objects.get(kind="guarantee", version=1).title == "Surety bond"


def test_the_pages_list_each_document_and_language_and_check_as_one_types(book: Book) -> None:
    page = client_for(ALPHA.admin)
    document_template_save(actor=None, kind="receipt", language="bn", closing="ধন্যবাদ।")
    overview = page.get("/lending/document-templates/")
    body = overview.content.decode()
    assert overview.status_code == 200
    assert body.count("Own wording") == 1 and body.count(">Default<") == 23
    assert "/lending/document-templates/receipt/bn/" in body
    assert "/lending/document-templates/" in page.get("/lending/products/").content.decode()  # in the menu
    edit = page.get("/lending/document-templates/contract/en/").content.decode()
    for name in wording.PLACEHOLDERS["contract"]:
        assert name in edit
    assert "This contract is made between {{ cooperative_name }}" in edit  # the default, as a start
    checked = page.post(
        "/lending/document-templates/contract/en/check/", {"opening": "{{ borower }}"}, HTTP_HX_REQUEST="true"
    )
    assert checked.status_code == 200 and "Unknown placeholder: borower" in checked.content.decode()
    fine = page.post("/lending/document-templates/contract/en/check/", {"opening": "{{ member_name }}"})
    assert "The wording can be used." in fine.content.decode()
    assert page.get("/lending/document-templates/nonsense/en/").status_code == 404
    assert page.get("/lending/document-templates/contract/xx/").status_code == 404
    bangla = client_for(ALPHA.admin, language="bn").get("/lending/document-templates/").content.decode()
    assert "নথির ভাষা" in bangla  # the page in the reader's language


def test_preview_draws_the_unsaved_wording_and_stores_nothing(book: Book) -> None:
    page = client_for(ALPHA.admin)
    preview = page.post(
        "/lending/document-templates/contract/en/preview/", {"opening": "Preview for {{ member_name }}."}
    )
    text = _text(preview)
    assert f"Preview for {book.borrower.full_name}." in text and book.loan.number in text  # the newest loan
    assert "Preview of the wording: not issued, not stored." in text
    assert DocumentTemplate.objects.count() == 0
    assert documents.documents_for(book.loan, book.application) == []
    assert not AuditEvent.objects.filter(action="lending.document.issue").exists()
    refused = page.post("/lending/document-templates/contract/en/preview/", {"opening": "{{ nobody }}"})
    assert refused.status_code == 400 and "Unknown placeholder: nobody" in refused.content.decode()
    # A receipt needs a repayment: the loan has none yet, so the made-up sample stands in.
    receipt = _text(page.post("/lending/document-templates/receipt/en/preview/", {"closing": "Thanks."}))
    assert "SAMPLE-L-000001" in receipt and "Thanks." in receipt


def test_preview_in_a_workspace_without_loans_uses_a_made_up_loan(in_alpha: object) -> None:
    page = client_for(ALPHA.admin)
    for kind in wording.KINDS:
        response = page.post(
            f"/lending/document-templates/{kind}/en/preview/",
            {"title": "Sample of {{ member_name }}", "closing": "Closing words."},
        )
        text = _text(response)
        assert "Sample of Sample member" in text, kind
        assert "Closing words." in text, kind
    assert DocumentTemplate.objects.count() == 0


def test_another_workspace_never_sees_or_changes_the_wording(book: Book) -> None:
    alpha_admin = workspace_client(ALPHA, username=ALPHA.admin)
    saved = _put(alpha_admin, f"{API}contract/en/", {"title": "Alpha's own contract"})
    assert saved.status_code == 200 and saved.json()["version"] == 1
    with tenant_context(BETA.cooperative()):
        beta_token = Token.objects.create(user=User.objects.get(username=BETA.admin))
    beta_admin = workspace_client(BETA, username=BETA.admin)
    # Beta, with its own session and token, reads and writes only its own wording.
    seen = beta_admin.get(f"{API}contract/en/").json()
    assert (seen["custom"], seen["title"], seen["history"]) == (False, "", [])
    listed = beta_admin.get(API).json()
    assert not any(item["custom"] for item in listed)
    own = _put(beta_admin, f"{API}contract/en/", {"title": "Beta took over"})
    assert own.status_code == 200 and own.json()["version"] == 1
    # Beta's token on alpha's host is not a token there: nothing read, nothing written.
    beta_on_alpha = Client(HTTP_HOST=ALPHA.host, HTTP_AUTHORIZATION=f"Token {beta_token.key}")
    assert beta_on_alpha.get(f"{API}contract/en/").status_code == 401
    assert _put(beta_on_alpha, f"{API}contract/en/", {"title": "Beta took over"}).status_code == 401
    # Beta's session cookie on alpha's host is not a session there either.
    beta_cookie = Client(HTTP_HOST=ALPHA.host)
    beta_cookie.cookies = beta_admin.cookies
    assert _put(beta_cookie, f"{API}contract/en/", {"title": "Beta took over"}).status_code in (401, 403)
    assert beta_cookie.get("/lending/document-templates/contract/en/").status_code in (302, 404)
    # Alpha's documents and wording are as alpha saved them.
    with tenant_context(ALPHA.cooperative()):
        assert [(row.version, row.title) for row in DocumentTemplate.objects.all()] == [
            (1, "Alpha's own contract")
        ]
    text = _text(client_for(ALPHA.admin).get(f"/lending/loans/{book.loan.pk}/documents/contract/?lang=en"))
    assert "Alpha's own contract" in text and "Beta took over" not in text
    with tenant_context(BETA.cooperative()):
        assert [(row.version, row.title) for row in DocumentTemplate.objects.all()] == [(1, "Beta took over")]


def test_the_api_is_in_the_openapi_schema(in_alpha: object) -> None:
    schema = workspace_client(ALPHA, username=ALPHA.admin).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/lending/document-templates/" in paths
    one = paths["/api/v1/lending/document-templates/{kind}/{language}/"]
    assert set(one) >= {"get", "put"}
    assert one["put"]["operationId"] == "lending_document_templates_update"
