"""Chaos check of field sync (issue 7): every collection is posted exactly once, whatever the network does.

Runs in a database of its own (<name>_chaos_field, created and dropped here). A workspace with a
weekly loan product whose extra money pays the next instalments in advance, one field officer per
simulated phone, each with loans paid out through the lending services, and a device registered
to each officer (``field_device_register``). The web app runs as its own process
(``manage.py runserver --noreload``, as the browser tests run it) on a free local port; the phones
talk to it over HTTP on the workspace's host, as the field app does:

- each phone (a thread) has its own queue of instalments (the amount of one instalment of the
  loan, value date the business date) and uploads them in batches of 12 to 25 items to
  ``POST /api/v1/field/sync/`` with ``Authorization: Device <token>``, one upload at a time, and
  keeps each item until an answer for it is stored (``created``, ``duplicate``, ``needs_review``,
  ``queued``); ``retry``, a 5xx or a lost connection means: send it again (with a short backoff);
- 30 % of the requests are sent a second time once answered (a replay: each item already answered
  must now be a ``duplicate`` naming the same repayment and ledger entry);
- 10 % of the answers are thrown away (the request was made, the network lost the answer): those
  items are sent again in a later batch;
- the server process is killed (SIGKILL) once about a third of the collections are acknowledged
  and again at about two thirds, and started again; the phones carry on.

Then the database is checked: one field record and one repayment (``field:<uuid>``) per
collection with the amount sent and no other repayment of these loans, the repayments' total
equal to the collections', each loan's principal paid equal to its repayments' principal, a
balanced trial balance, the collectors' cash debited with exactly what was collected, and one
"instalment received" SMS per collection in the outbox. Any mismatch exits non-zero and says what.

``python -m bench.field_chaos --collections 10000 --devices 20`` (``make chaos-field``); the CI
check is ``tests/field/test_chaos.py`` (600 collections from 6 phones, one kill). Writes
bench/results/field_chaos.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import bench_workspace, machine, run_in_own_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "field_chaos.json"
SYNC_PATH = "/api/v1/field/sync/"
# Each upload takes what the phone has, up to 25 items (at least half that): after a lost answer
# the next batch mixes items the server already stored with new ones.
BATCH = 25
REPLAY_SHARE = 0.30
DROP_SHARE = 0.10
# Instalments each phone collects on each of its loans (of 52): far from the payoff, so every
# collection is a plain instalment the lending service takes (never one it must refuse).
COLLECTIONS_PER_LOAN = 25
PRINCIPAL = 50_000_00
# Answers after which the item is done; anything else (``retry``) is sent again.
FINAL = frozenset({"created", "duplicate", "needs_review", "queued"})
# Answers that refuse the item for good: never expected here, each one is reported.
REFUSED = frozenset({"conflict", "invalid"})
REQUEST_TIMEOUT_S = 120


class ChaosFailure(Exception):
    """The run could not go on (a whole request refused, the server would not start, time ran out)."""


# --- The book: officers, loans, devices and each phone's queue -------------------------------------


@dataclass(frozen=True)
class Collection:
    client_uuid: str
    loan_id: int
    amount_minor: int
    item: dict[str, Any]  # exactly what the phone sends, every time


@dataclass
class Phone:
    number: int
    officer_id: int
    device_id: int
    token: str
    collections: list[Collection]


@dataclass
class ChaosBook:
    schema_name: str
    host: str  # the workspace's host name, sent as the Host header
    value_date: dt.date
    phones: list[Phone]

    def collections(self) -> list[Collection]:
        return [collection for phone in self.phones for collection in phone.collections]


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if number < total % parts else 0) for number in range(parts)]


def _product_and_approver(head_office: Any) -> tuple[Any, Any]:
    from core_banking.lending.models import PrepaymentStrategy
    from core_banking.lending.services import approval_levels_set, loan_product_create
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create

    approval_levels_set(actor=None, levels=[(1, 0)])
    approver = staff_user_create(
        actor=None,
        username="chaos-approver",
        password=None,
        roles=[Role.APPROVER.value],
        approver_level=1,
        home_branch=head_office,
        all_branches=True,
        email="approver@chaos.example",
    )
    product = loan_product_create(
        actor=None,
        code="CHS",
        name="Weekly samity loan",
        product_type="ordinary",
        annual_rate=Decimal("24"),
        rate_effective_from=dt.date(2024, 1, 1),
        default_installments=52,
        maximum_installments=52,
        interest_method="declining",
        amortization="equal_installments",
        days_in_year="365",
        frequency="weekly",
        # Money beyond what is due pays the next instalments (the default, named for the reader).
        prepayment_strategy=PrepaymentStrategy.ADVANCE,
    )
    return product, approver


def _loans(product: Any, approver: Any, members: list[Any], paid_out: dt.date) -> list[tuple[int, int]]:
    """One loan per member paid out through the services today; (loan id, its first instalment)."""
    from core_banking.lending.models import LoanInstallment
    from core_banking.lending.services import loan_application_decide, loan_application_submit, loan_disburse

    loans = []
    for member in members:
        application = loan_application_submit(
            actor=None,
            member_id=member.pk,
            product_id=product.pk,
            amount_minor=PRINCIPAL,
            installments=52,
            applied_on=paid_out,
        ).application
        loan_application_decide(actor=approver, application_id=application.pk, decision="approved")
        loan = loan_disburse(
            actor=None,
            application_id=application.pk,
            disbursed_on=paid_out,
            idempotency_key=f"chaos-{member.pk}",
        )
        first = LoanInstallment.objects.get(loan=loan, number=1)
        loans.append((loan.pk, first.principal_minor + first.interest_minor + first.fee_minor))
    return loans


def chaos_book(cooperative: Any, *, collections: int, devices: int) -> ChaosBook:
    """Officers, loans, devices and queues in ``cooperative`` (call inside its ``tenant_context``).

    Phone n collects ``COLLECTIONS_PER_LOAN`` instalments (at most) on each of its own loans, one
    loan after another in turn, each the amount of the loan's first instalment.
    """
    from core_banking.members.models import Member, MemberType
    from core_banking.organisation.models import Branch
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create
    from field.services import field_device_register
    from tenants.models import Domain

    head_office = Branch.objects.get(is_head_office=True)
    value_date = cooperative.business_date()
    product, approver = _product_and_approver(head_office)
    shares = _shares(collections, devices)
    loans_each = [-(-share // COLLECTIONS_PER_LOAN) for share in shares]
    member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
    members = Member.objects.bulk_create(
        Member(
            number=f"CH{number:06d}",
            branch=head_office,
            member_type=member_type,
            full_name=f"Chaos member {number}",
            phone=f"+88017{number:08d}",
            message_language="bn",
            join_date=dt.date(2020, 1, 1),
        )
        for number in range(sum(loans_each))
    )
    loans = _loans(product, approver, members, value_date)
    now = dt.datetime.now(dt.UTC)
    phones = []
    for number, (share, count) in enumerate(zip(shares, loans_each, strict=True)):
        officer = staff_user_create(
            actor=None,
            username=f"collector-{number:02d}",
            password=None,
            roles=[Role.FIELD_OFFICER.value],
            home_branch=head_office,
            email=f"collector-{number:02d}@chaos.example",
        )
        device, token = field_device_register(actor=officer, label=f"phone {number:02d}")
        own, loans = loans[:count], loans[count:]
        queue = []
        for sequence in range(share):
            loan_id, amount = own[sequence % count]
            client_uuid = str(uuid.uuid4())
            item = {
                "client_uuid": client_uuid,
                "device_sequence": sequence + 1,
                "device_time": (now + dt.timedelta(seconds=sequence)).isoformat(),
                "kind": "instalment",
                "loan": loan_id,
                "amount_minor": amount,
                "value_date": value_date.isoformat(),
            }
            queue.append(Collection(client_uuid, loan_id, amount, item))
        phones.append(Phone(number, officer.pk, device.pk, token, queue))
    domain = Domain.objects.get(tenant=cooperative, is_primary=True).domain
    return ChaosBook(cooperative.schema_name, domain, value_date, phones)


# --- The server process -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(database_url: str) -> dict[str, str]:
    """What a web server process on ``database_url`` runs with (as the tests' server processes)."""
    environment = dict(os.environ)
    environment.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "control_plane.settings",
            "PYTHONUNBUFFERED": "1",
            "COOPCORE_SIGNUP_RATE": "",
            "COOPCORE_SIGNUP_SLUG_CHECK_RATE": "",
            "COOPCORE_SPARE_WORKSPACES": "0",
            # The outbox's relay, if one runs, sends the SMS nowhere.
            "TWILIO_API_BASE": environment.get("TWILIO_API_BASE") or "http://127.0.0.1:9",
        }
    )
    return environment


class WebServer:
    """``manage.py runserver --noreload`` on a local port: started, killed outright, started again."""

    def __init__(self, *, environment: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.environment = environment
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/livez", headers={"Host": "localhost"})
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def start(self, timeout: float = 90) -> float:
        """Start it and wait until it answers; the seconds that took."""
        started = time.monotonic()
        with self.log_path.open("a") as log:
            log.write(f"--- start {self.starts + 1} ---\n")
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        while not self._answers():
            if self.process.poll() is not None:
                raise ChaosFailure(f"the web server exited: {self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise ChaosFailure(f"the web server was not ready within {timeout:.0f} s: {self.log_tail()}")
            time.sleep(0.2)
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL: no request in flight is finished, no response is sent."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


# --- The phones ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the phones did and were told; shared by the phone threads (under ``lock``)."""

    collections: int = 0
    acknowledged: int = 0
    requests_sent: int = 0
    replays: int = 0
    dropped_responses: int = 0
    server_kills: int = 0
    restart_seconds: list[float] = field(default_factory=list)
    transport_errors: int = 0
    server_errors: int = 0  # whole requests answered 5xx
    retry_answers: int = 0  # items answered ``retry``
    resent_items: int = 0  # items sent again after their first upload (replays not counted)
    answers: Counter[str] = field(default_factory=Counter)  # every item answer received, by status
    duplicates_to_replays: int = 0  # of the duplicates answered, those answering a replay
    acknowledged_by_status: Counter[str] = field(default_factory=Counter)
    # The answer each collection was acknowledged with: (status, record status, repayment, entry).
    acknowledgements: dict[str, tuple[str, str, int | None, int | None]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def duplicates_answered(self) -> int:
        return self.answers["duplicate"]


class _Lost(Exception):
    """No answer: the connection failed or timed out, or the server answered 5xx."""


def _post(port: int, host: str, token: str, body: bytes) -> list[dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    headers = {
        "Host": f"{host}:{port}",
        "Authorization": f"Device {token}",
        "Content-Type": "application/json",
        "Connection": "close",
    }
    try:
        connection.request("POST", SYNC_PATH, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise _Lost(type(error).__name__) from error
    finally:
        connection.close()
    if response.status >= 500:
        raise _Lost(f"HTTP {response.status}")
    if response.status != 200:
        raise ChaosFailure(f"the sync refused a whole batch: HTTP {response.status} {content[:500]!r}")
    try:
        return list(json.loads(content)["items"])
    except (ValueError, KeyError, TypeError) as error:
        # Cut off when the server was killed while sending it (no length to tell it short): lost.
        raise _Lost(f"a truncated answer ({len(content)} bytes)") from error


def _compare_replay(
    tally: Tally, sent: list[Collection], first: list[dict[str, Any]], again: list[dict[str, Any]]
) -> None:
    """A replay must answer every item already answered as a duplicate of that first answer."""
    for collection, before, after in zip(sent, first, again, strict=True):
        if before["status"] not in FINAL:
            continue
        same = (
            after["status"] == "duplicate"
            and after["record_status"] == before["record_status"]
            and after["loan_transaction"] == before["loan_transaction"]
            and after["entry"] == before["entry"]
        )
        if not same:
            tally.problems.append(
                f"replay of {collection.client_uuid}: first {before['status']} "
                f"(repayment {before['loan_transaction']}, entry {before['entry']}), then {after['status']} "
                f"(repayment {after['loan_transaction']}, entry {after['entry']})"
            )


def _count_answers(tally: Tally, sent: list[Collection], answers: list[dict[str, Any]]) -> None:
    if len(answers) != len(sent):
        raise ChaosFailure(f"{len(sent)} items sent, {len(answers)} answered")
    for collection, answer in zip(sent, answers, strict=True):
        if answer["client_uuid"] != collection.client_uuid:
            raise ChaosFailure(f"answer for {answer['client_uuid']} in the place of {collection.client_uuid}")
        tally.answers[answer["status"]] += 1


class _PhoneRun:
    """One phone: its queue, uploaded a batch at a time until every item has a stored answer."""

    def __init__(
        self, phone: Phone, *, port: int, host: str, tally: Tally, seed: int, stop: threading.Event
    ) -> None:
        self.phone = phone
        self.port = port
        self.host = host
        self.tally = tally
        self.random = random.Random(seed)  # noqa: S311 - chaos, not secrets
        self.stop = stop
        self.pending = list(phone.collections)
        self.sent_before: set[str] = set()

    def _send(self, body: bytes) -> list[dict[str, Any]]:
        with self.tally.lock:
            self.tally.requests_sent += 1
        return _post(self.port, self.host, self.phone.token, body)

    def _lost(self, failures: int) -> None:
        # Backoff while the server is down or restarting: short, with jitter, growing to a second.
        time.sleep(min(0.1 * 2 ** min(failures, 4), 1.0) * (0.5 + self.random.random()))

    def run(self) -> None:
        failures = 0
        while self.pending and not self.stop.is_set():
            batch = self.pending[: self.random.randint(BATCH // 2, BATCH)]
            body = json.dumps({"items": [collection.item for collection in batch]}).encode()
            with self.tally.lock:
                resent = [c for c in batch if c.client_uuid in self.sent_before]
                self.tally.resent_items += len(resent)
            self.sent_before.update(collection.client_uuid for collection in batch)
            try:
                answers = self._send(body)
            except _Lost as lost:
                failures += 1
                with self.tally.lock:
                    if str(lost).startswith("HTTP"):
                        self.tally.server_errors += 1
                    else:
                        self.tally.transport_errors += 1
                self._lost(failures)
                continue
            failures = 0
            with self.tally.lock:
                _count_answers(self.tally, batch, answers)
            if self.random.random() < REPLAY_SHARE:
                self._replay(batch, body, answers)
            if self.random.random() < DROP_SHARE:
                with self.tally.lock:
                    self.tally.dropped_responses += 1
                continue  # the network lost the answer: every item of the batch is sent again
            self._store(batch, answers)

    def _replay(self, batch: list[Collection], body: bytes, answers: list[dict[str, Any]]) -> None:
        with self.tally.lock:
            self.tally.replays += 1
        try:
            again = self._send(body)
        except _Lost:
            with self.tally.lock:
                self.tally.transport_errors += 1
            return
        with self.tally.lock:
            _count_answers(self.tally, batch, again)
            self.tally.duplicates_to_replays += sum(answer["status"] == "duplicate" for answer in again)
            _compare_replay(self.tally, batch, answers, again)

    def _store(self, batch: list[Collection], answers: list[dict[str, Any]]) -> None:
        done = set()
        with self.tally.lock:
            for collection, answer in zip(batch, answers, strict=True):
                status = answer["status"]
                if status == "retry":
                    self.tally.retry_answers += 1
                    continue
                done.add(collection.client_uuid)
                if status in REFUSED:
                    self.tally.problems.append(
                        f"{collection.client_uuid} refused: {status} {answer.get('reason_code')} "
                        f"{answer.get('field_errors') or answer.get('reason')}"
                    )
                    continue
                self.tally.acknowledged += 1
                self.tally.acknowledged_by_status[status] += 1
                self.tally.acknowledgements[collection.client_uuid] = (
                    status,
                    answer["record_status"],
                    answer["loan_transaction"],
                    answer["entry"],
                )
        self.pending = [collection for collection in self.pending if collection.client_uuid not in done]


def chaos_run(
    book: ChaosBook, server: WebServer, *, kills: int = 2, seed: int = 7, time_limit_s: float = 1800
) -> Tally:
    """Every phone uploads its queue through the chaos; the server (already started) is killed with
    SIGKILL and started again ``kills`` times, at 1/(kills+1), 2/(kills+1), … of the acknowledged
    collections. Returns what was sent and answered; ``tally.problems`` lists what went wrong."""
    tally = Tally(collections=sum(len(phone.collections) for phone in book.phones))
    stop = threading.Event()
    errors: list[BaseException] = []

    def phone_thread(runner: _PhoneRun) -> None:
        try:
            runner.run()
        except BaseException as error:  # reported by the main thread, which stops the others
            errors.append(error)
            stop.set()

    runners = [
        _PhoneRun(
            phone, port=server.port, host=book.host, tally=tally, seed=seed * 1000 + phone.number, stop=stop
        )
        for phone in book.phones
    ]
    threads = [threading.Thread(target=phone_thread, args=(runner,), daemon=True) for runner in runners]
    kill_at = [tally.collections * (number + 1) // (kills + 1) for number in range(kills)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while any(thread.is_alive() for thread in threads):
            if kill_at and tally.acknowledged >= kill_at[0]:
                kill_at.pop(0)
                server.kill()
                with tally.lock:
                    tally.server_kills += 1
                time.sleep(0.5)  # down for a moment: the phones meet refused connections
                tally.restart_seconds.append(round(server.start(), 2))
            if time.monotonic() - started > time_limit_s:
                stop.set()
                raise ChaosFailure(f"not done within {time_limit_s:.0f} s: {tally.acknowledged} acknowledged")
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
        tally.seconds = round(time.monotonic() - started, 1)
    if errors:
        raise ChaosFailure(f"a phone stopped: {errors[0]!r}") from errors[0]
    return tally


# --- The check ------------------------------------------------------------------------------------


class _Check:
    """The database against what the phones sent and were told; ``problems`` collects each mismatch."""

    def __init__(self, book: ChaosBook, tally: Tally) -> None:
        self.book = book
        self.tally = tally
        self.problems = list(tally.problems)
        self.collections = {collection.client_uuid: collection for collection in book.collections()}
        self.keys = {f"field:{client_uuid}": c for client_uuid, c in self.collections.items()}
        self.loan_ids = sorted({collection.loan_id for collection in self.collections.values()})
        self.collected = sum(collection.amount_minor for collection in self.collections.values())
        self.figures: dict[str, Any] = {}

    def mismatch(self, message: str, found: list[Any]) -> None:
        if found:
            self.problems.append(f"{message}: {len(found)}, e.g. {found[:5]}")

    def answers(self) -> None:
        acknowledged = self.tally.acknowledgements
        self.mismatch(
            "collections never acknowledged", [u for u in self.collections if u not in acknowledged]
        )
        self.mismatch(
            "collections acknowledged as other than posted",
            [(u, answer[0], answer[1]) for u, answer in acknowledged.items() if answer[1] != "created"],
        )

    def records(self) -> dict[str, dict[str, Any]]:
        from field.models import FieldRecord

        records = {
            str(record["client_uuid"]): record
            for record in FieldRecord.objects.filter(client_uuid__in=list(self.collections)).values(
                "client_uuid", "status", "amount_minor", "loan_transaction_id", "entry_id"
            )
        }
        self.mismatch("collections without a field record", [u for u in self.collections if u not in records])
        self.mismatch(
            "field records not posted, or with another amount",
            [
                (u, record["status"], record["amount_minor"])
                for u, record in records.items()
                if record["status"] != "created" or record["amount_minor"] != self.collections[u].amount_minor
            ],
        )
        self.figures["field_records"] = len(records)
        return records

    def repayments(self) -> dict[str, dict[str, Any]]:
        """Every repayment of these loans: exactly one per collection, under its key, with its amount."""
        from core_banking.lending.models import LoanTransaction, LoanTransactionKind

        repayments = list(
            LoanTransaction.objects.filter(
                loan_id__in=self.loan_ids, kind=LoanTransactionKind.REPAYMENT
            ).values("id", "idempotency_key", "loan_id", "amount_minor", "principal_minor", "entry_id")
        )
        by_key = Counter(repayment["idempotency_key"] for repayment in repayments)
        self.mismatch("repayments posted more than once", [key for key, n in by_key.items() if n > 1])
        self.mismatch("collections without a repayment", [key for key in self.keys if key not in by_key])
        self.mismatch(
            "repayments of these loans not from a collection", [key for key in by_key if key not in self.keys]
        )
        self.mismatch(
            "other movements on these loans",
            list(
                LoanTransaction.objects.filter(loan_id__in=self.loan_ids)
                .exclude(kind__in=[LoanTransactionKind.REPAYMENT, LoanTransactionKind.DISBURSEMENT])
                .values_list("id", "kind")
            ),
        )
        self.mismatch(
            "repayments with another amount or loan than collected",
            [
                (r["idempotency_key"], r["amount_minor"], r["loan_id"])
                for r in repayments
                if r["idempotency_key"] in self.keys
                and (r["amount_minor"], r["loan_id"])
                != (self.keys[r["idempotency_key"]].amount_minor, self.keys[r["idempotency_key"]].loan_id)
            ],
        )
        repaid = sum(repayment["amount_minor"] for repayment in repayments)
        if repaid != self.collected:
            self.problems.append(f"repayments total {repaid}, collections total {self.collected}")
        self.figures |= {
            "repayments": len(repayments),
            "collected_minor": self.collected,
            "repaid_minor": repaid,
        }
        self._loans(repayments)
        return {repayment["idempotency_key"]: repayment for repayment in repayments}

    def _loans(self, repayments: list[dict[str, Any]]) -> None:
        """Each loan's principal paid is what its repayments say they paid (no payment applied twice)."""
        from core_banking.lending.models import Loan

        principal_repaid = Counter[int]()
        for repayment in repayments:
            principal_repaid[repayment["loan_id"]] += repayment["principal_minor"]
        self.mismatch(
            "loans whose principal paid differs from their repayments' principal",
            [
                (loan.pk, loan.principal_minor - loan.principal_outstanding_minor, principal_repaid[loan.pk])
                for loan in Loan.objects.filter(pk__in=self.loan_ids)
                if loan.principal_minor - loan.principal_outstanding_minor != principal_repaid[loan.pk]
            ],
        )

    def same_posting(self, records: dict[str, dict[str, Any]], repayments: dict[str, dict[str, Any]]) -> None:
        """The record and the phone's stored answer name the repayment and entry that were posted."""
        differ = []
        for client_uuid in self.collections:
            posted = repayments.get(f"field:{client_uuid}")
            if posted is None:
                continue
            record = records.get(client_uuid)
            answer = self.tally.acknowledgements.get(client_uuid)
            if record is not None and (record["loan_transaction_id"], record["entry_id"]) != (
                posted["id"],
                posted["entry_id"],
            ):
                differ.append((client_uuid, "record", record["loan_transaction_id"], posted["id"]))
            if answer is not None and answer[2:] != (posted["id"], posted["entry_id"]):
                differ.append((client_uuid, "answer", answer[2], posted["id"]))
        self.mismatch("records or answers naming another repayment or entry than the one posted", differ)

    def ledger(self, repayments: dict[str, dict[str, Any]]) -> None:
        """One balanced entry per collection, the collector's cash debited with exactly the amount."""
        from django.db.models import F, Sum

        from core_banking.ledger.models import JournalEntry, JournalLine
        from core_banking.reporting.selectors import trial_balance
        from field.services import SUSPENSE_ACCOUNT_CODE

        entry_amounts = {
            repayment["entry_id"]: repayment["amount_minor"] for repayment in repayments.values()
        }
        entry_ids = list(entry_amounts)
        entries_under_keys = JournalEntry.objects.filter(idempotency_key__in=list(self.keys)).count()
        if entries_under_keys != len(self.keys):
            self.problems.append(
                f"{entries_under_keys} ledger entries under {len(self.keys)} collections' keys"
            )
        lines = JournalLine.objects.filter(entry_id__in=entry_ids)
        self.mismatch(
            "unbalanced entries",
            list(
                lines.values("entry_id")
                .annotate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
                .exclude(debit=F("credit"))
                .values_list("entry_id", flat=True)
            ),
        )
        self.mismatch(
            "entries touching suspense",
            list(lines.filter(account__code=SUSPENSE_ACCOUNT_CODE).values_list("entry_id", flat=True)),
        )
        cash = {
            row["entry_id"]: (row["debit"], row["credit"])
            for row in lines.filter(account__code__in=self._cash_codes())
            .values("entry_id")
            .annotate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
        }
        self.mismatch(
            "entries whose cash debit is not the amount collected",
            [
                (entry, amount, cash.get(entry))
                for entry, amount in entry_amounts.items()
                if cash.get(entry) != (amount, 0)
            ],
        )
        cash_debited = sum(debit for debit, _credit in cash.values())
        if cash_debited != self.collected:
            self.problems.append(
                f"cash debited {cash_debited} by the collections' postings, collected {self.collected}"
            )
        balance = trial_balance(end=self.book.value_date + dt.timedelta(days=3650), branch_ids=None)
        balanced = balance.balanced and balance.closing_debit_minor == balance.closing_credit_minor
        if not balanced:
            self.problems.append(
                f"trial balance: debits {balance.closing_debit_minor}, credits {balance.closing_credit_minor}"
            )
        self.figures |= {"cash_debited_minor": cash_debited, "trial_balance_balanced": balanced}

    def _cash_codes(self) -> set[str]:
        """The cash each collector's postings name: their till, else the branch cash (as the sync picks)."""
        from django.contrib.auth import get_user_model

        from core_banking.cash.services import cash_account_for_posting
        from core_banking.lending.models import Loan

        branches = {
            loan.branch_id: loan.branch
            for loan in Loan.objects.select_related("branch").filter(pk__in=self.loan_ids)
        }
        officers = get_user_model().objects.filter(pk__in=[phone.officer_id for phone in self.book.phones])
        return {
            cash_account_for_posting(actor=officer, branch=branch)
            for officer in officers
            for branch in branches.values()
        }

    def outbox(self) -> None:
        from notifications.models import MessageKind, OutboxMessage

        messages = Counter(
            OutboxMessage.objects.filter(source_ref__in=list(self.keys)).values_list("source_ref", "kind")
        )
        instalment = MessageKind.INSTALMENT_RECEIVED.value
        self.mismatch(
            "collections without an instalment SMS",
            [key for key in self.keys if (key, instalment) not in messages],
        )
        self.mismatch("collections with more than one SMS", [key for key, n in messages.items() if n > 1])
        self.mismatch(
            "other messages under the collections' keys", [m for m in messages if m[1] != instalment]
        )
        self.figures["outbox_messages"] = sum(n for (_key, kind), n in messages.items() if kind == instalment)


def chaos_check(book: ChaosBook, tally: Tally) -> tuple[dict[str, Any], list[str]]:
    """The figures from the database and every mismatch found (call inside the workspace's context)."""
    check = _Check(book, tally)
    check.answers()
    records = check.records()
    repayments = check.repayments()
    check.same_posting(records, repayments)
    check.ledger(repayments)
    check.outbox()
    return check.figures, check.problems


# (key in the results file, label in the printed table): the run's figures, then the database's.
FIGURES = [
    ("collections", "collections made"),
    ("acknowledged", "acknowledged"),
    ("requests_sent", "requests sent"),
    ("replays", "replays"),
    ("dropped_responses", "dropped responses"),
    ("server_kills", "server kills"),
    ("duplicates_answered", "duplicates answered"),
    ("duplicates_to_replays", "  to replays"),
    ("duplicates_to_items_sent_again", "  to items sent again"),
    ("retries", "retries (items sent again)"),
    ("retry_answers", "retry answers"),
    ("transport_errors", "lost connections"),
    ("server_errors", "5xx answers"),
    ("field_records", "field records"),
    ("repayments", "repayments posted"),
    ("collected_minor", "collected (minor units)"),
    ("repaid_minor", "repaid (minor units)"),
    ("cash_debited_minor", "cash debited (minor units)"),
    ("outbox_messages", "instalment SMS in outbox"),
    ("trial_balance_balanced", "trial balance balanced"),
    ("restart_seconds", "server restarts (s)"),
    ("seconds", "seconds"),
]


def chaos_figures(tally: Tally, figures: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the run by its key (``FIGURES``)."""
    return {
        "collections": tally.collections,
        "acknowledged": tally.acknowledged,
        "requests_sent": tally.requests_sent,
        "replays": tally.replays,
        "dropped_responses": tally.dropped_responses,
        "server_kills": tally.server_kills,
        "duplicates_answered": tally.duplicates_answered,
        "duplicates_to_replays": tally.duplicates_to_replays,
        "duplicates_to_items_sent_again": tally.duplicates_answered - tally.duplicates_to_replays,
        "retries": tally.resent_items,
        "retry_answers": tally.retry_answers,
        "transport_errors": tally.transport_errors,
        "server_errors": tally.server_errors,
        **figures,
        "restart_seconds": tally.restart_seconds,
        "seconds": tally.seconds,
    }


def table(tally: Tally, figures: dict[str, Any]) -> str:
    """The figures as a small table, one per line."""
    values = chaos_figures(tally, figures)
    width = max(len(label) for _key, label in FIGURES)
    shown = {key: ", ".join(map(str, v)) if isinstance(v, list) else v for key, v in values.items()}
    return "\n".join(f"{label.ljust(width)}  {shown.get(key)}" for key, label in FIGURES)


# --- The command ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.field_chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--collections", type=int, default=10_000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--kills", type=int, default=2, help="server kills (at least one)")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args(argv)
    if arguments.kills < 1 or arguments.devices < 1 or arguments.collections < arguments.devices:
        parser.error("at least one kill, one device, and a collection per device")
    return run_in_own_database("_chaos_field", lambda: _run(arguments))


def _run(arguments: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import tenant_context

    cooperative = bench_workspace("bench-chaos")
    started = time.perf_counter()
    with tenant_context(cooperative):
        book = chaos_book(cooperative, collections=arguments.collections, devices=arguments.devices)
    loans = len({collection.loan_id for collection in book.collections()})
    say(f"  {len(book.phones)} phones, {loans} loans paid out, in {time.perf_counter() - started:.0f} s")
    connection.close()
    log_path = Path(tempfile.mkdtemp(prefix="field-chaos-")) / "web.log"
    server = WebServer(environment=server_environment(os.environ["DATABASE_URL"]), log_path=log_path)
    say(f"  web server on port {server.port} (log: {log_path})")
    server.start()
    try:
        tally = chaos_run(book, server, kills=arguments.kills, seed=arguments.seed)
    except ChaosFailure as failure:
        print(f"CHAOS CHECK FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    with tenant_context(cooperative):
        figures, problems = chaos_check(book, tally)
    print(table(tally, figures))
    result = {
        "benchmark": "field_chaos",
        "collections": tally.collections,
        "devices": len(book.phones),
        "loans": loans,
        "batch": f"{BATCH // 2}-{BATCH}",
        "replay_share": REPLAY_SHARE,
        "drop_share": DROP_SHARE,
        "counts": chaos_figures(tally, figures),
        "answers": dict(tally.answers),
        "acknowledged_by_status": dict(tally.acknowledged_by_status),
        "restart_seconds": tally.restart_seconds,
        "problems": problems,
        "passed": not problems,
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    if problems:
        print("CHAOS CHECK FAILED:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    say("  chaos check passed: every collection posted exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
