"""The one write path of cash custody: holders, handovers between them, and day closes.

- ``cash_holder_ensure`` / ``cash_holder_account``: the holder and its ledger account, made on
  first use. The vault holds the branch's cash account (1100-<branch>); a teller or field
  officer holds 1100-<branch>-U<user id>.
- ``cash_handover_send`` records a handover and posts nothing; ``cash_handover_confirm`` by the
  receiver posts one entry (Dr receiver / Cr giver); ``cash_handover_reject`` (receiver) and
  ``cash_handover_cancel`` (sender) end a pending one without posting.
- ``cash_day_close`` counts a holder's cash by denomination against the book on a business date
  and posts the difference: a shortage Dr 1450 / Cr holder, a surplus Dr holder / Cr 2310.

A branch's closed day (``accounting.services.branch_day_close``) takes no more cash movements:
handovers dated on it are neither sent nor confirmed, and a count's difference is not posted on it
(``counter_day_open_require``, ``day_closed``).

Locks are taken in one order: holder rows (by id), then the handover row, then the branch's day
lock (shared), then the ledger's chain head (inside ``journal_post``). Internal cash movements
concern no member, so they queue no member message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from babel.numbers import get_currency_precision
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import OFFICE_CHANNEL, counter_day_open_require
from core_banking.cash import access, selectors
from core_banking.cash.denominations import CountError, CountTotal, count_total
from core_banking.cash.models import CashDayClose, CashHandover, CashHolder, HandoverStatus, HolderKind
from core_banking.ledger.models import Account, AccountKind, JournalEntry
from core_banking.ledger.presets import CASH_CONTROL_PREFIX, CASH_NAMES, CHART, cash_account_code, name_in
from core_banking.ledger.services import LineSpec, branch_cash_account_ensure, journal_post
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Role
from tenants.db import workspace_business_date, workspace_currency, workspace_language

SHORTAGE_ACCOUNT_CODE = "1450"  # cash shortages awaiting resolution (asset)
SURPLUS_ACCOUNT_CODE = "2310"  # cash surpluses awaiting resolution (liability)
ACCOUNT_CODE_LENGTH = 20


# --- Helpers -------------------------------------------------------------------------------------


def _person(actor: Any | None) -> StaffProfile:
    profile = access.profile_of(actor)
    if profile is None:
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED, "Only a signed-in staff user of this workspace handles cash."
        )
    return profile


def _require_amount(amount_minor: int) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise BusinessRuleViolation(
            ErrorCode.AMOUNT_INVALID,
            "The amount must be a positive whole number of minor units.",
            fields={"amount": ["A positive whole number."]},
        )


def _require_key(key: str) -> None:
    if not key or len(key) > 100:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "Give an idempotency key of 1-100 characters.",
            fields={"idempotency_key": ["1-100 characters."]},
        )


def _require_not_future(day: dt.date, field: str, code: ErrorCode = ErrorCode.VALIDATION_ERROR) -> None:
    today = workspace_business_date()
    if day > today:
        raise BusinessRuleViolation(
            code,
            f"{day.isoformat()} is after the business date {today.isoformat()}.",
            fields={field: ["Not after the business date."]},
        )


def _key_reused(what: str, record_id: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "This idempotency key was already used with different content.",
        fields={"idempotency_key": [f"Used by {what} {record_id} with other content."]},
    )


def _forbidden(message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(ErrorCode.CASH_HOLDER_FORBIDDEN, message)


def _handover_memo(handover: CashHandover) -> str:
    """Ledger memos are in the cooperative's language: the books read in one language."""
    with translation.override(workspace_language()):
        text = _("Cash handover %(giver)s to %(receiver)s") % {
            "giver": selectors.holder_label(handover.giver),
            "receiver": selectors.holder_label(handover.receiver),
        }
    return text[:300]


def _difference_memo(holder: CashHolder, *, shortage: bool) -> str:
    with translation.override(workspace_language()):
        label = selectors.holder_label(holder)
        if shortage:
            text = _("Cash shortage at day close: %(holder)s") % {"holder": label}
        else:
            text = _("Cash surplus at day close: %(holder)s") % {"holder": label}
    return text[:300]


# --- Holders -------------------------------------------------------------------------------------


def _till_account_code(branch: Branch, user_id: int) -> str:
    preferred = f"{cash_account_code(branch.code)}-U{user_id}"
    if len(preferred) <= ACCOUNT_CODE_LENGTH:
        return preferred
    return f"{CASH_CONTROL_PREFIX}-#{branch.pk}-U{user_id}"  # a branch code too long to fit


def _holder_kind(profile: StaffProfile) -> HolderKind:
    return HolderKind.FIELD_OFFICER if Role.FIELD_OFFICER.value in profile.roles else HolderKind.TELLER


def _invalid_holder(message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(ErrorCode.CASH_HOLDER_INVALID, message, fields={"holder": [message]})


def cash_holder_ensure(*, actor: Any | None, branch: Branch, user: Any | None = None) -> CashHolder:
    """The holder of cash at ``branch``: ``user`` (a teller or field officer), or the vault when None.

    Made on first use, with its ledger account; the user must be staff who may hold cash there.
    """
    existing = selectors.holder_of(branch_id=branch.pk, user_id=user.pk if user is not None else None)
    if existing is not None:
        return existing
    with transaction.atomic():
        if user is None:
            kind = HolderKind.VAULT
            account = branch_cash_account_ensure(branch=branch, language=workspace_language())
        else:
            profile = access.profile_of(user) if getattr(user, "is_active", False) else None
            if profile is None or not access.may_hold_cash(profile, branch.pk):
                raise _invalid_holder(f"{user} cannot hold cash at {branch}.")
            kind = _holder_kind(profile)
            cash_name = name_in(CASH_NAMES, workspace_language())
            name = f"{cash_name} — {branch.name} — {selectors.person_label(user)}"
            account, _created = Account.objects.get_or_create(
                code=_till_account_code(branch, user.pk),
                defaults={"name": name[:200], "kind": AccountKind.ASSET, "branch": branch},
            )
            taken = CashHolder.objects.filter(account=account).first()
            if taken is not None and taken.branch_id == branch.pk and taken.user_id == user.pk:
                return taken  # made a moment ago by a concurrent request for the same person
            if account.kind != AccountKind.ASSET or taken is not None:
                raise _invalid_holder(f"Account {account.code} is not free to be {user}'s cash.")
        try:
            with transaction.atomic():
                holder = CashHolder.objects.create(
                    branch=branch, kind=kind, user=user, account=account, created_at=timezone.now()
                )
        except IntegrityError:
            # Made at the same moment by another request: use that one.
            raced = selectors.holder_of(branch_id=branch.pk, user_id=user.pk if user is not None else None)
            if raced is None:
                raise
            return raced
        audit_record(
            actor=actor,
            action="cash.holder.create",
            target=holder,
            changes={"branch": branch.code, "kind": kind.value, "account": account.code},
        )
    return holder


def cash_holder_account(*, actor: Any | None, branch: Branch, user: Any | None = None) -> Account:
    """The ledger account of the cash ``user`` (or the vault) holds at ``branch``; made on first use.

    Pass its code to postings that take or pay cash (``counter_account_code`` of savings,
    ``cash_account_code`` of share purchases) so the cash lands with the person holding it.
    """
    return cash_holder_ensure(actor=actor, branch=branch, user=user).account


def cash_account_for_posting(*, actor: Any | None, branch: Branch) -> str:
    """The cash account a posting by ``actor`` at ``branch`` names: their own till when they may hold
    cash there (made on first use), otherwise the branch's cash (the vault)."""
    return cash_accounts_for_posting(actor=actor, branches=[branch])[branch.pk]


def cash_accounts_for_posting(*, actor: Any | None, branches: Sequence[Branch]) -> dict[int, str]:
    """``cash_account_for_posting`` for several branches at once (a field sync's batch): one query
    for the tills the actor already has; the others are made on first use."""
    from core_banking.ledger.presets import cash_account_code

    profile = access.profile_of(actor) if getattr(actor, "is_active", False) else None
    if profile is None or profile.read_only:
        return {branch.pk: cash_account_code(branch.code) for branch in branches}
    tills = dict(
        CashHolder.objects.filter(user=actor, branch__in=branches).values_list("branch_id", "account__code")
    )
    codes = {}
    for branch in branches:
        if not access.may_hold_cash(profile, branch.pk):
            codes[branch.pk] = cash_account_code(branch.code)
        else:
            codes[branch.pk] = (
                tills.get(branch.pk) or cash_holder_account(actor=actor, branch=branch, user=actor).code
            )
    return codes


def _lock_holders(*holders: CashHolder) -> None:
    ids = sorted({holder.pk for holder in holders})
    list(
        CashHolder.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
    )


def _refuse_closed_day(holder: CashHolder, value_date: dt.date) -> None:
    closed = (
        CashDayClose.objects.filter(holder=holder, business_date__gte=value_date)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )
    if closed is not None:
        raise BusinessRuleViolation(
            ErrorCode.CASH_DAY_CLOSED,
            f"{selectors.holder_label(holder)} closed the day {closed.isoformat()}; "
            f"no cash can move on {value_date.isoformat()} any more.",
            fields={"value_date": [f"Closed through {closed.isoformat()}."]},
        )


def _available_minor(holder: CashHolder) -> int:
    return selectors.balance_minor(holder.account_id) - selectors.pending_out_minor(holder)


# --- Handovers -----------------------------------------------------------------------------------


def cash_handover_send(
    *,
    actor: Any,
    branch: Branch,
    giver_user: Any | None,
    receiver_user: Any | None,
    amount_minor: int,
    idempotency_key: str,
    value_date: dt.date | None = None,
    memo: str = "",
) -> CashHandover:
    """Record cash handed from one holder to another of the branch (None: the vault). Nothing is posted.

    The giver is the person sending (their own till) or, from the vault, one of its keepers. The
    same key again returns the first handover.
    """
    profile = _person(actor)
    _require_amount(amount_minor)
    _require_key(idempotency_key)
    value_date = value_date or workspace_business_date()
    _require_not_future(value_date, "value_date")
    giver_id = giver_user.pk if giver_user is not None else None
    receiver_id = receiver_user.pk if receiver_user is not None else None
    if giver_id == receiver_id:
        raise BusinessRuleViolation(
            ErrorCode.CASH_HANDOVER_SAME_HOLDER,
            "The giver and the receiver are the same holder.",
            fields={"receiver": ["Choose someone else."]},
        )
    if not access.acts_for(profile, branch_id=branch.pk, user_id=giver_id):
        raise _forbidden("You can hand over only cash you hold (or the vault's, if you keep it).")
    wanted = (branch.pk, giver_id, receiver_id, amount_minor, value_date)
    earlier = CashHandover.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return _replayed_send(earlier, wanted)
    try:
        with transaction.atomic():
            giver = cash_holder_ensure(actor=actor, branch=branch, user=giver_user)
            receiver = cash_holder_ensure(actor=actor, branch=branch, user=receiver_user)
            _lock_holders(giver, receiver)
            # After the locks: a concurrent request with this key has committed by now if it ran.
            earlier = CashHandover.objects.filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _replayed_send(earlier, wanted)
            _refuse_closed_day(giver, value_date)
            _refuse_closed_day(receiver, value_date)
            counter_day_open_require(branch=branch, day=value_date, channel=OFFICE_CHANNEL)
            available = _available_minor(giver)
            if amount_minor > available:
                raise _insufficient(giver, available)
            handover = CashHandover.objects.create(
                branch=branch,
                giver=giver,
                receiver=receiver,
                amount_minor=amount_minor,
                value_date=value_date,
                memo=memo.strip()[:200],
                idempotency_key=idempotency_key,
                sent_by=actor,
                sent_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="cash.handover.send",
                target=handover,
                changes={
                    "giver": giver.account.code,
                    "receiver": receiver.account.code,
                    "amount_minor": amount_minor,
                    "value_date": value_date.isoformat(),
                },
            )
            return handover
    except IntegrityError:
        earlier = CashHandover.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is None:
            raise
        return _replayed_send(earlier, wanted)


def _insufficient(holder: CashHolder, available: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.CASH_BALANCE_INSUFFICIENT,
        f"{selectors.holder_label(holder)} holds only {max(available, 0)} (minor units) to hand over.",
        fields={"amount": [f"At most {max(available, 0)}."]},
    )


def _replayed_send(
    earlier: CashHandover, wanted: tuple[int, int | None, int | None, int, dt.date]
) -> CashHandover:
    """The handover first sent under this key, if this request asks for the same; else a conflict."""
    earlier = CashHandover.objects.select_related("giver", "receiver").get(pk=earlier.pk)
    same = wanted == (
        earlier.branch_id,
        earlier.giver.user_id,
        earlier.receiver.user_id,
        earlier.amount_minor,
        earlier.value_date,
    )
    if not same:
        raise _key_reused("handover", earlier.pk)
    return earlier


def _locked_handover(handover_id: int) -> CashHandover:
    """Lock the handover's two holders (by id), then the handover itself, and read it afresh."""
    found = CashHandover.objects.filter(pk=handover_id).values_list("giver_id", "receiver_id").first()
    if found is None:
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, "No such handover.")
    list(CashHolder.objects.select_for_update().filter(pk__in=sorted(found)).order_by("pk").values_list("pk"))
    return (
        CashHandover.objects.select_for_update(of=("self",))
        .select_related("branch", "giver__account", "receiver__account", "giver__user", "receiver__user")
        .get(pk=handover_id)
    )


def _not_pending(handover: CashHandover) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.CASH_HANDOVER_NOT_PENDING,
        f"Handover {handover.pk} is {handover.status}.",
        fields={"handover": [str(HandoverStatus(handover.status).label)]},
    )


def _require_receiver(profile: StaffProfile, handover: CashHandover) -> None:
    if not access.acts_for(profile, branch_id=handover.branch_id, user_id=handover.receiver.user_id):
        raise BusinessRuleViolation(
            ErrorCode.CASH_HANDOVER_NOT_RECEIVER,
            "Only the receiver of this cash can confirm or reject it.",
            fields={"handover": ["Not addressed to you."]},
        )


def cash_handover_confirm(*, actor: Any, handover_id: int) -> CashHandover:
    """The receiver confirms the cash arrived: one entry moves it from the giver to the receiver.

    Confirming again returns the same handover and entry; nothing is posted twice.
    """
    profile = _person(actor)
    with transaction.atomic():
        handover = _locked_handover(handover_id)
        _require_receiver(profile, handover)
        if handover.status == HandoverStatus.CONFIRMED:
            return handover
        if handover.status != HandoverStatus.PENDING:
            raise _not_pending(handover)
        if handover.sent_by_id == actor.pk:
            raise BusinessRuleViolation(
                ErrorCode.CASH_HANDOVER_SENDER_CANNOT_CONFIRM,
                "The person who handed the cash over cannot also confirm receiving it.",
                fields={"handover": ["Another keeper confirms."]},
            )
        giver, receiver = handover.giver, handover.receiver
        _refuse_closed_day(giver, handover.value_date)
        _refuse_closed_day(receiver, handover.value_date)
        counter_day_open_require(branch=handover.branch, day=handover.value_date, channel=OFFICE_CHANNEL)
        available = selectors.balance_minor(giver.account_id)
        if handover.amount_minor > available:
            raise _insufficient(giver, available)
        entry = journal_post(
            idempotency_key=f"cash-handover-{handover.pk}",
            value_date=handover.value_date,
            branch=handover.branch,
            memo=_handover_memo(handover),
            lines=[
                LineSpec(receiver.account.code, debit_minor=handover.amount_minor),
                LineSpec(giver.account.code, credit_minor=handover.amount_minor),
            ],
            actor=actor,
        )
        handover.status = HandoverStatus.CONFIRMED
        handover.entry = entry
        handover.decided_by = actor
        handover.decided_at = timezone.now()
        handover.save(update_fields=["status", "entry", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="cash.handover.confirm",
            target=handover,
            changes={"amount_minor": handover.amount_minor, "entry": entry.pk},
        )
    return handover


def _end(handover: CashHandover, *, actor: Any, status: HandoverStatus, reason: str) -> CashHandover:
    handover.status = status
    handover.decided_by = actor
    handover.decided_at = timezone.now()
    handover.reason = reason.strip()[:200]
    handover.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit_record(
        actor=actor,
        action=f"cash.handover.{'reject' if status == HandoverStatus.REJECTED else 'cancel'}",
        target=handover,
        changes={"amount_minor": handover.amount_minor, "reason": handover.reason},
    )
    return handover


def cash_handover_reject(*, actor: Any, handover_id: int, reason: str = "") -> CashHandover:
    """The receiver refuses the handover (the cash did not arrive, or not that amount); nothing posts."""
    profile = _person(actor)
    with transaction.atomic():
        handover = _locked_handover(handover_id)
        _require_receiver(profile, handover)
        if handover.status == HandoverStatus.REJECTED:
            return handover
        if handover.status != HandoverStatus.PENDING:
            raise _not_pending(handover)
        return _end(handover, actor=actor, status=HandoverStatus.REJECTED, reason=reason)


def cash_handover_cancel(*, actor: Any, handover_id: int, reason: str = "") -> CashHandover:
    """The sender withdraws a handover the receiver has not confirmed yet; nothing posts."""
    _person(actor)
    with transaction.atomic():
        handover = _locked_handover(handover_id)
        if handover.sent_by_id != actor.pk:
            raise _forbidden("Only the person who sent a handover can cancel it.")
        if handover.status == HandoverStatus.CANCELLED:
            return handover
        if handover.status != HandoverStatus.PENDING:
            raise _not_pending(handover)
        return _end(handover, actor=actor, status=HandoverStatus.CANCELLED, reason=reason)


# --- Day close -----------------------------------------------------------------------------------


def difference_account(code: str) -> Account:
    """The shortage (1450) or surplus (2310) account; made from the preset in a workspace older than it."""
    preset = next(preset for preset in CHART if preset.code == code)
    account, _created = Account.objects.get_or_create(
        code=code, defaults={"name": name_in(preset.names, workspace_language()), "kind": preset.kind}
    )
    return account


def _counted(counts: Mapping[str, object]) -> CountTotal:
    money = workspace_currency()
    try:
        return count_total(money, counts, exponent=get_currency_precision(money))
    except CountError as error:
        raise BusinessRuleViolation(
            ErrorCode.CASH_DENOMINATION_INVALID,
            "Some counts are not valid.",
            fields={f"counts.{key}": [problem] for key, problem in error.problems.items()},
        ) from error


def cash_day_close(
    *,
    actor: Any,
    branch: Branch,
    user: Any | None,
    business_date: dt.date,
    counts: Mapping[str, object],
    idempotency_key: str,
    note: str = "",
) -> CashDayClose:
    """Close a holder's day (``user`` None: the vault): count by denomination, compare, post the difference.

    A shortage posts Dr 1450 / Cr holder, a surplus Dr holder / Cr 2310, both for the business date.
    One close per holder and day: the same key again returns it; any other second close is refused.
    Handovers of the holder still waiting for an answer must be settled first.
    """
    profile = _person(actor)
    _require_key(idempotency_key)
    total = _counted(counts)
    user_id = user.pk if user is not None else None
    if not access.may_close(profile, branch_id=branch.pk, user_id=user_id):
        raise _forbidden("You can close only your own cash (or, as a keeper, the branch's).")
    earlier = CashDayClose.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return _replayed_close(earlier, branch, user_id, business_date, total.as_counts())
    _require_not_future(business_date, "business_date", ErrorCode.CASH_CLOSE_DATE_INVALID)
    try:
        with transaction.atomic():
            holder = cash_holder_ensure(actor=actor, branch=branch, user=user)
            _lock_holders(holder)
            earlier = CashDayClose.objects.filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _replayed_close(earlier, branch, user_id, business_date, total.as_counts())
            done = CashDayClose.objects.filter(holder=holder, business_date=business_date).first()
            if done is not None:
                raise _already_closed(holder, business_date)
            pending = list(
                selectors.pending_handovers_of(holder, through=business_date).values_list("pk", flat=True)
            )
            if pending:
                raise BusinessRuleViolation(
                    ErrorCode.CASH_HANDOVER_PENDING,
                    "Settle the handovers still waiting for an answer before closing the day.",
                    fields={"handovers": [f"#{number}" for number in pending]},
                )
            book = selectors.balance_minor(holder.account_id, through=business_date)
            difference = total.total_minor - book
            entry = None
            if difference:
                counter_day_open_require(branch=branch, day=business_date, channel=OFFICE_CHANNEL)
                entry = _post_difference(holder, business_date, difference, actor)
            close = CashDayClose.objects.create(
                holder=holder,
                business_date=business_date,
                counts=total.as_counts(),
                counted_minor=total.total_minor,
                book_minor=book,
                difference_minor=difference,
                entry=entry,
                note=note.strip()[:200],
                idempotency_key=idempotency_key,
                closed_by=actor,
                closed_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="cash.day_close",
                target=close,
                changes={
                    "holder": holder.account.code,
                    "business_date": business_date.isoformat(),
                    "counted_minor": total.total_minor,
                    "book_minor": book,
                    "difference_minor": difference,
                    "entry": entry.pk if entry else None,
                },
            )
            return close
    except IntegrityError:
        earlier = CashDayClose.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replayed_close(earlier, branch, user_id, business_date, total.as_counts())
        raise


def _post_difference(holder: CashHolder, day: dt.date, difference: int, actor: Any) -> JournalEntry:
    memo = _difference_memo(holder, shortage=difference < 0)
    if difference < 0:
        lines = [
            LineSpec(difference_account(SHORTAGE_ACCOUNT_CODE).code, debit_minor=-difference),
            LineSpec(holder.account.code, credit_minor=-difference),
        ]
    else:
        lines = [
            LineSpec(holder.account.code, debit_minor=difference),
            LineSpec(difference_account(SURPLUS_ACCOUNT_CODE).code, credit_minor=difference),
        ]
    return journal_post(
        idempotency_key=f"cash-close-{holder.pk}-{day.isoformat()}",
        value_date=day,
        branch=holder.branch,
        memo=memo,
        lines=lines,
        actor=actor,
    )


def _already_closed(holder: CashHolder, day: dt.date) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.CASH_DAY_CLOSED,
        f"{selectors.holder_label(holder)} has already closed {day.isoformat()}.",
        fields={"business_date": ["Already closed."]},
    )


def _replayed_close(
    earlier: CashDayClose, branch: Branch, user_id: int | None, day: dt.date, counts: dict[str, int]
) -> CashDayClose:
    holder = earlier.holder
    if (holder.branch_id, holder.user_id, earlier.business_date, earlier.counts) != (
        branch.pk,
        user_id,
        day,
        counts,
    ):
        raise _key_reused("day close", earlier.pk)
    return earlier
