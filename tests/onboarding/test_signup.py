"""Online sign-up: the form, a pending sign-up with no workspace, Checkout through the official
client against the local fake at the HTTP edge, confirmation from the webhook or the return URL
(whichever is first, once, and only as Stripe says), provisioning, expiry."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from billing.models import BillingAccount, PlanPrice, StripeEvent
from billing.stripe_fake import FakeStripe
from control_plane.audit.models import AuditEvent
from control_plane.identity.models import User
from core_banking.lending.models import LoanProduct
from core_banking.savings.models import SavingsProduct
from onboarding.models import SignUp, SignUpStatus
from onboarding.services import signup_provision, signups_expire
from tenants.models import Cooperative, Lifecycle
from tests.billing.stripe_support import deliver, public_client

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase-7"


def _form(**overrides: str) -> dict[str, str]:
    values = {
        "plan": "standard",
        "name": "Padma Savings Samity",
        "registration_number": "DHA-2024-0099",
        "country": "BD",
        "currency": "",
        "default_language": "",
        "slug": "padma",
        "admin_name": "Rokeya Begum",
        "admin_email": "rokeya@padma.example",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    values.update(overrides)
    return values


def _start(client: Client, **overrides: str) -> SignUp:
    response = client.post("/signup/", _form(**overrides))
    assert response.status_code == 302, response.content.decode()[:3000]
    signup = SignUp.objects.get(slug=overrides.get("slug", "padma"))
    assert response["Location"] == signup.checkout_url
    return signup


def _pay(fake: FakeStripe, signup: SignUp) -> str:
    """The person pays on the Checkout page; returns where the page sends them back to."""
    fake.webhook_url = ""  # the in-process test delivers the webhook itself (see _deliver_sent)
    request = urllib.request.Request(  # noqa: S310 - the local fake
        signup.checkout_url, data=b"action=pay", method="POST"
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303
        return str(redirect.headers["Location"])
    raise AssertionError("the payment page did not redirect")


def _deliver_sent(fake: FakeStripe, kind: str) -> Any:
    sent = next(event for event in reversed(fake.sent_events) if event["type"] == kind)
    return deliver(public_client(), sent)


def test_the_plans_page_shows_prices_and_keeps_the_workspace_box(db: None) -> None:
    client = public_client()
    page = client.get("/?currency=BDT").content.decode()
    assert "Go to your workspace" in page and 'name="workspace"' in page
    for plan in ("Starter", "Standard", "Network"):
        assert plan in page
    assert "BDT" in page and "4,000.00" in page  # Standard's monthly fee
    assert 'href="/signup/?plan=standard&amp;currency=BDT"' in page
    # The find-your-workspace box still sends a cooperative to its subdomain.
    assert client.get("/?workspace=rupali")["Location"] == "http://rupali.localhost:8000/"
    vietnamese = Client(HTTP_HOST="localhost", HTTP_COOKIE="coopcore_language=vi").get("/").content.decode()
    assert "Tiêu chuẩn" in vietnamese and "1.200.000" in vietnamese


def test_the_form_reports_each_problem_on_its_field(stripe_fake: FakeStripe, alpha: Any) -> None:
    response = public_client().post(
        "/signup/",
        _form(slug="alpha", password="short", password_again="other", admin_email="not-an-address"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "slug" in form.errors and "admin_email" in form.errors and "password_again" in form.errors
    reserved = public_client().post("/signup/", _form(slug="admin")).context["form"]
    assert "reserved" in reserved.errors["slug"][0]
    weak = (
        public_client()
        .post("/signup/", _form(password="password123", password_again="password123"))
        .context["form"]
    )
    assert "password" in weak.errors
    assert (
        not SignUp.objects.filter(slug__in=["alpha", "admin", "padma"]).exists()
        and stripe_fake.sessions == {}
    )


def test_the_subdomain_is_checked_as_it_is_typed(alpha: Any) -> None:
    client = public_client()
    assert "padma.localhost is available" in client.get("/signup/subdomain/?slug=padma").content.decode()
    assert "already taken" in client.get("/signup/subdomain/?slug=alpha").content.decode()
    assert "reserved" in client.get("/signup/subdomain/?slug=www").content.decode()
    assert "lowercase letters" in client.get("/signup/subdomain/?slug=Bad_Name!").content.decode()


def test_submitting_stores_a_pending_sign_up_and_opens_checkout_no_workspace_yet(
    stripe_fake: FakeStripe,
) -> None:
    signup = _start(public_client())
    assert signup.status == SignUpStatus.PENDING and signup.cooperative is None
    assert (
        signup.admin_password_hash.startswith(("md5$", "pbkdf2"))
        and PASSWORD not in signup.admin_password_hash
    )
    assert not Cooperative.objects.filter(slug="padma").exists() and not schema_exists("coop_padma")
    # Checkout in subscription mode: the monthly price, and the setup fee on the first invoice.
    session = stripe_fake.sessions[signup.stripe_checkout_session_id]
    price = PlanPrice.objects.get(plan__code="standard", currency="BDT")
    assert session["mode"] == "subscription"
    assert session["_line_items"][0] == {"price": price.stripe_price_id, "quantity": "1"}
    setup = session["_line_items"][1]["price_data"]
    assert (setup["currency"], setup["unit_amount"]) == ("bdt", str(15_000_00))
    assert session["metadata"] == {"signup": str(signup.public_id), "slug": "padma"}
    assert session["customer_email"] == "rokeya@padma.example"
    assert session["success_url"].endswith(
        f"/signup/{signup.public_id}/return/?session_id={{CHECKOUT_SESSION_ID}}"
    )
    # The subdomain is held while it is paid for.
    assert "already taken" in public_client().get("/signup/subdomain/?slug=padma").content.decode()


def test_a_plan_without_a_price_in_the_currency_is_billed_in_dollars(stripe_fake: FakeStripe) -> None:
    signup = _start(public_client(), country="KH", slug="angkor")
    assert (signup.currency, signup.billing_currency) == ("USD", "USD")
    signup = _start(public_client(), country="KH", currency="KHR", slug="angkor2")
    assert (signup.currency, signup.billing_currency) == ("KHR", "USD")


def test_the_return_url_alone_proves_nothing(stripe_fake: FakeStripe, eager_celery: None) -> None:
    client = public_client()
    signup = _start(client)
    # Someone opens the success URL without paying, with the real session id or a made-up one.
    for session_id in (signup.stripe_checkout_session_id, "cs_test_forged"):
        response = client.get(f"/signup/{signup.public_id}/return/?session_id={session_id}")
        assert response.status_code == 302
    signup.refresh_from_db()
    assert signup.status == SignUpStatus.PENDING and not Cooperative.objects.filter(slug="padma").exists()


def test_a_session_of_another_sign_up_does_not_confirm_this_one(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = public_client()
    mine = _start(client)
    other = _start(client, slug="meghna", admin_email="x@meghna.example")
    _pay(stripe_fake, other)
    with django_capture_on_commit_callbacks(execute=False):
        client.get(f"/signup/{mine.public_id}/return/?session_id={other.stripe_checkout_session_id}")
    mine.refresh_from_db()
    assert mine.status == SignUpStatus.PENDING


def test_paid_then_returned_then_webhook_one_workspace_logged_in_as_chosen(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = public_client()
    signup = _start(client)
    back = _pay(stripe_fake, signup)
    assert (
        back
        == f"http://localhost/signup/{signup.public_id}/return/?session_id={signup.stripe_checkout_session_id}"
    )
    # The person is back first: the return URL confirms with Stripe and queues the workspace.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(back.removeprefix("http://localhost"))
    assert response["Location"] == f"/signup/{signup.public_id}/"
    # Then the webhook: stored, processed, nothing more happens.
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver_sent(stripe_fake, "checkout.session.completed").status_code == 200
    (completed,) = [
        event for event in stripe_fake.sent_events if event["type"] == "checkout.session.completed"
    ]
    assert StripeEvent.objects.get(event_id=completed["id"]).outcome == "already provisioned"

    signup.refresh_from_db()
    assert signup.status == SignUpStatus.PROVISIONED and signup.admin_password_hash == ""
    cooperative = Cooperative.objects.get(slug="padma")
    assert signup.cooperative == cooperative
    assert (cooperative.country, cooperative.currency, cooperative.default_language) == ("BD", "BDT", "bn")
    assert cooperative.registration_number == "DHA-2024-0099"
    assert cooperative.lifecycle == Lifecycle.ACTIVE
    account = BillingAccount.objects.get(cooperative=cooperative)
    assert account.plan.code == "standard" and account.currency == "BDT"
    assert account.stripe_subscription_id == signup.stripe_subscription_id
    assert account.subscription_status == "active"  # read from Stripe once the workspace existed
    with tenant_context(cooperative):
        admin = User.objects.get(username="rokeya@padma.example")
        assert admin.check_password(PASSWORD) and admin.first_name == "Rokeya Begum"
        assert admin.staff_profile.roles == ["cooperative_admin"]
        assert set(SavingsProduct.objects.values_list("code", flat=True)) == {"CMP", "VOL"}
        assert LoanProduct.objects.get().code == "GEN"
        assert SavingsProduct.objects.get(code="CMP").name != "Compulsory savings"  # in Bangla
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"signup.start", "signup.paid", "signup.provisioned", "cooperative.lifecycle"} <= actions


def test_webhook_first_then_return(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = public_client()
    signup = _start(client, country="VN", slug="binhan")
    back = _pay(stripe_fake, signup)
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_sent(stripe_fake, "checkout.session.completed")
        client.get(back.removeprefix("http://localhost"))
    cooperative = Cooperative.objects.get(slug="binhan")
    assert (cooperative.currency, cooperative.default_language) == ("VND", "vi")
    assert BillingAccount.objects.get(cooperative=cooperative).currency == "VND"
    assert AuditEvent.objects.filter(action="signup.provisioned", object_id=str(cooperative.pk)).count() == 1


def test_provisioning_twice_creates_one_workspace(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = public_client()
    signup = _start(client)
    back = _pay(stripe_fake, signup)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(back.removeprefix("http://localhost"))
    assert signup_provision(signup_id=signup.pk) == "skipped: provisioned"
    assert Cooperative.objects.filter(slug="padma").count() == 1


def test_a_subdomain_taken_meanwhile_fails_the_sign_up_and_says_so(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

    client = public_client()
    signup = _start(client)
    # Operations staff create a cooperative with that subdomain by hand while the payment runs.
    cooperative_provision(
        spec=CooperativeSpec(name="Other", slug="padma", country="BD"),
        admin=AdminSpec(username="boss", password="long-enough-password-1"),
    )
    back = _pay(stripe_fake, signup)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(back.removeprefix("http://localhost"))
    signup.refresh_from_db()
    assert signup.status == SignUpStatus.FAILED and "slug_taken" in signup.failure
    page = client.get(f"/signup/{signup.public_id}/").content.decode()
    assert "Your payment is safe" in page


def test_the_waiting_page_is_never_blank_and_polls(stripe_fake: FakeStripe) -> None:
    client = public_client()
    signup = _start(client)
    page = client.get(f"/signup/{signup.public_id}/").content.decode()
    assert "Waiting for the payment to be confirmed" in page
    assert f'hx-get="/signup/{signup.public_id}/progress/"' in page and 'hx-trigger="every 1s"' in page
    assert "Return to the payment page" in page  # this browser started it
    partial = client.get(f"/signup/{signup.public_id}/progress/").content.decode()
    assert partial.lstrip().startswith('<div id="signup-progress"')
    # Another browser sees the progress, not the way back to payment.
    assert (
        "Return to the payment page"
        not in public_client().get(f"/signup/{signup.public_id}/").content.decode()
    )


def test_cancel_then_pay_later(stripe_fake: FakeStripe) -> None:
    client = public_client()
    signup = _start(client)
    first_session = signup.stripe_checkout_session_id
    page = client.get(f"/signup/{signup.public_id}/cancelled/").content.decode()
    assert "nothing was charged" in page and "Go back to payment" in page
    response = client.post(f"/signup/{signup.public_id}/resume/")
    signup.refresh_from_db()
    assert signup.stripe_checkout_session_id != first_session and response["Location"] == signup.checkout_url
    assert stripe_fake.sessions[first_session]["status"] == "expired"
    # Another browser cannot reopen someone's payment.
    assert public_client().post(f"/signup/{signup.public_id}/resume/").status_code == 404


def test_abandoned_sign_ups_expire_and_leave_no_workspace(stripe_fake: FakeStripe) -> None:
    signup = _start(public_client())
    assert signups_expire(now=timezone.now() + dt.timedelta(minutes=30)) == []
    assert signups_expire(now=timezone.now() + dt.timedelta(minutes=61)) == ["padma"]
    signup.refresh_from_db()
    assert signup.status == SignUpStatus.EXPIRED and signup.admin_password_hash == ""
    assert stripe_fake.sessions[signup.stripe_checkout_session_id]["status"] == "expired"
    assert not Cooperative.objects.filter(slug="padma").exists() and not schema_exists("coop_padma")
    # The subdomain is free again.
    assert "is available" in public_client().get("/signup/subdomain/?slug=padma").content.decode()


def test_a_session_paid_just_before_expiry_is_confirmed_not_expired(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    signup = _start(public_client())
    _pay(stripe_fake, signup)  # the webhook is delayed; the beat task runs first
    with django_capture_on_commit_callbacks(execute=True):
        assert signups_expire(now=timezone.now() + dt.timedelta(hours=2)) == []
    signup.refresh_from_db()
    assert signup.status == SignUpStatus.PROVISIONED


def test_stripe_unreachable_keeps_nothing(settings: Any) -> None:
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = public_client().post("/signup/", _form())
    assert response.status_code == 200
    assert "payment service cannot be reached" in response.content.decode()
    assert not SignUp.objects.filter(slug="padma").exists()


def test_a_declined_card_leaves_no_workspace(stripe_fake: FakeStripe) -> None:
    signup = _start(public_client())
    request = urllib.request.Request(signup.checkout_url, data=b"action=decline", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as declined:
        urllib.request.urlopen(request)  # noqa: S310
    assert declined.value.code == 402
    signup.refresh_from_db()
    assert (
        signup.status == SignUpStatus.PENDING
        and stripe_fake.sessions[signup.stripe_checkout_session_id]["status"] == "open"
    )
    assert not Cooperative.objects.filter(slug="padma").exists()
