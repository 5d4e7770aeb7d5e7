"""The cash pages: balances of my branches, handing over and confirming, the day close form."""

from __future__ import annotations

from django.urls import reverse

from control_plane.identity.models import User
from core_banking.cash.models import CashDayClose, CashHandover, HandoverStatus
from core_banking.organisation.models import Branch
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.cash.conftest import give_teller


def test_the_index_shows_each_holders_balance(head_office: Branch, manager: User, teller: User) -> None:
    give_teller(manager, teller, head_office, 2_000_00)
    page = workspace_client(ALPHA, username=manager.username).get(reverse("cash:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "1100-HO" in html and f"1100-HO-U{teller.pk}" in html
    assert "৯৮,০০০.০০৳" in html  # the vault after handing over Tk 2,000.00, as Bangla readers write it
    assert 'href="/cash/"' in html  # the menu entry


def test_hand_over_then_the_receiver_confirms_on_the_page(
    head_office: Branch, manager: User, teller: User
) -> None:
    keeper = workspace_client(ALPHA, username=manager.username)
    form = keeper.get(reverse("cash:send"))
    assert form.status_code == 200
    key = form.context["form"].initial["idempotency_key"]
    sent = keeper.post(
        reverse("cash:send"),
        {"giver": "vault", "receiver": str(teller.pk), "amount": "১,২৫০.৫০", "idempotency_key": key},
    )
    assert sent.status_code == 302
    handover = CashHandover.objects.get()
    assert (handover.amount_minor, handover.giver.user_id, handover.receiver.user_id) == (
        1_250_50,
        None,
        teller.pk,
    )
    cashier = workspace_client(ALPHA, username=teller.username)
    index = cashier.get(reverse("cash:index")).content.decode()
    assert reverse("cash:confirm", args=[handover.pk]) in index
    # The keeper cannot confirm it for the teller; the teller can.
    keeper.post(reverse("cash:confirm", args=[handover.pk]))
    assert CashHandover.objects.get().status == HandoverStatus.PENDING
    assert cashier.post(reverse("cash:confirm", args=[handover.pk])).status_code == 302
    assert CashHandover.objects.get().status == HandoverStatus.CONFIRMED


def test_a_refused_handover_shows_the_reason_on_the_form(
    head_office: Branch, manager: User, teller: User
) -> None:
    keeper = workspace_client(ALPHA, username=manager.username)
    page = keeper.post(
        reverse("cash:send"),
        {"giver": "vault", "receiver": str(teller.pk), "amount": "100000.01", "idempotency_key": "page-1"},
    )
    assert page.status_code == 200
    assert page.context["form"].errors == {"amount": ["At most 10000000."]}
    assert not CashHandover.objects.exists()


def test_the_day_close_form_counts_and_posts(head_office: Branch, manager: User, teller: User) -> None:
    give_teller(manager, teller, head_office, 1_000_00)
    cashier = workspace_client(ALPHA, username=teller.username)
    url = f"{reverse('cash:close')}?branch={head_office.pk}&date=2026-11-02"
    form = cashier.get(url)
    html = form.content.decode()
    assert form.status_code == 200 and 'data-book-minor="100000"' in html
    assert 'name="counts.note-1000"' in html and 'data-value-minor="50"' in html  # the 50-poisha coin
    done = cashier.post(url, {"counts.note-500": "2", "counts.coin-0.50": "1", "idempotency_key": "page-c-1"})
    close = CashDayClose.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("cash:close_detail", args=[close.pk])
    assert (close.counted_minor, close.difference_minor, close.counts) == (
        1_000_50,
        50,
        {"note-500": 2, "coin-0.50": 1},
    )
    detail = cashier.get(done["Location"])
    assert detail.status_code == 200 and "2310" in detail.content.decode()
    again = cashier.get(url)
    assert again.context["done"] == close


def test_another_branchs_officer_gets_404(head_office: Branch, manager: User, teller: User) -> None:
    give_teller(manager, teller, head_office, 1_000_00)
    close = workspace_client(ALPHA, username=teller.username).post(
        f"{reverse('cash:close')}?branch={head_office.pk}&date=2026-11-02",
        {"counts.note-1000": "1", "idempotency_key": "page-c-2"},
    )
    assert close.status_code == 302
    officer = workspace_client(ALPHA, username=ALPHA.only_here)
    assert officer.get(f"{reverse('cash:send')}?branch={head_office.pk}").status_code == 404
    assert officer.get(f"{reverse('cash:close')}?branch={head_office.pk}").status_code == 404
    assert officer.get(close["Location"]).status_code == 404
    assert officer.post(reverse("cash:confirm", args=[CashHandover.objects.get().pk])).status_code == 404
    listed = officer.get(reverse("cash:index")).content.decode()
    assert "1100-HO" not in listed and "1100-BR1" in listed
