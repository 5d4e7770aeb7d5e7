"""Notifications benchmark: how many SMS a second the relay sends, with the default concurrency.

Runs in a database of its own (<name>_bench_notifications, created and dropped here). One
workspace holds ``BENCH_MESSAGES`` (default 5,000) pending savings-deposit messages to members
with valid numbers, their text not yet rendered (the relay renders and stores it, as it does for
real). A local fake Twilio (``notifications.twilio_fake``) answers every request after 50 ms; the
official twilio client in the relay is pointed at it.

A real Celery worker is started as deployments start it (``celery -A control_plane worker``, the
default pool and concurrency, the default queue), then the relay is kicked once for the
workspace, as the commit of a money movement kicks it. ``relay_msgs_per_s`` is the number of
messages divided by the time from the kick until the last row is recorded as sent (read from the
database every 100 ms). The fake counts the requests it received: each message exactly once.

Writes bench/results/notifications.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import bench_workspace, machine, run_in_own_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "notifications.json"
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "5000"))
MEMBERS = 500
PROVIDER_DELAY_SECONDS = 0.05
NOTE = (
    "One kick of the relay (as after a money movement's commit) in one workspace, which queues "
    "NOTIFICATIONS_RELAY_RUNS_PER_KICK relay tasks; one Celery worker as deployed by default (prefork, "
    "one process per CPU). Each relay task claims rows in small batches with FOR UPDATE SKIP LOCKED and "
    "renders, stores and sends them from a pool of threads. Time from the kick until the last row is "
    "recorded as sent."
)


def main() -> int:
    return run_in_own_database("_bench_notifications", _run)


def _messages(cooperative: Any) -> None:
    from django.utils import timezone

    from core_banking.members.models import Member, MemberType
    from core_banking.organisation.models import Branch
    from notifications.models import MessageKind, OutboxMessage

    branch = Branch.objects.get(is_head_office=True)
    member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
    members = Member.objects.bulk_create(
        Member(
            number=f"M{number:06d}",
            branch=branch,
            member_type=member_type,
            full_name=f"Member {number}",
            phone=f"+8801711{number:06d}",
            message_language=("bn", "en")[number % 2],
            join_date=dt.date(2020, 1, 1),
        )
        for number in range(MEMBERS)
    )
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(
                kind=MessageKind.SAVINGS_DEPOSIT,
                source_ref=f"bench-{number}",
                member_id=members[number % MEMBERS].pk,
                phone=members[number % MEMBERS].phone,
                language=members[number % MEMBERS].message_language,
                context={
                    "amount_minor": 500_00 + number,
                    "balance_minor": 12_500_00 + number * 100,
                    "currency": "BDT",
                    "account": f"SAV-{number:06d}",
                    "value_date": "2026-11-24",
                },
                created_at=now,
            )
            for number in range(MESSAGES)
        ),
        batch_size=2000,
    )


def _worker(fake_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    from control_plane.celery import app as celery_app

    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    environment = {**os.environ, "TWILIO_API_BASE": fake_url, "LOG_LEVEL": "WARNING"}
    node = f"bench-notifications-{os.getpid()}@localhost"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-n", node, "-l", "warning",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(destination=[node], timeout=1):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start: {log_path.read_text()[-2000:]}")
    return process


def _run() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from notifications.models import OutboxMessage, OutboxStatus
    from notifications.tasks import outbox_relay_kick
    from notifications.twilio_fake import FakeTwilio

    say(f"Notifications benchmark: {MESSAGES:,} messages, provider answering in 50 ms")
    cooperative = bench_workspace("bench-sms")
    with tenant_context(cooperative):
        _messages(cooperative)
    fake = FakeTwilio(auth_token=settings.TWILIO_AUTH_TOKEN, delay_seconds=PROVIDER_DELAY_SECONDS).start()
    log_path = ROOT / ".data" / "bench-notifications-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    worker = _worker(fake.url, log_path)
    load_before = os.getloadavg()
    try:
        with tenant_context(cooperative):
            started = time.monotonic()
            outbox_relay_kick()
            sent = 0
            deadline = started + max(600, MESSAGES / 5)
            while time.monotonic() < deadline:
                sent = OutboxMessage.objects.filter(status=OutboxStatus.SENT).count()
                if sent >= MESSAGES:
                    break
                time.sleep(0.1)
            seconds = time.monotonic() - started
            statuses = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")))
            segments = dict(OutboxMessage.objects.values_list("encoding").annotate(n=Count("id")))
    finally:
        load_after = os.getloadavg()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        fake.stop()

    creates = len(fake.creates())
    per_s = round(sent / seconds, 1)
    say(f"  {sent:,} sent in {seconds:.2f} s: {per_s}/s; the fake received {creates:,} sends")
    result: dict[str, Any] = {
        "benchmark": "notifications",
        "relay_msgs_per_s": per_s,
        "details": {
            "messages": MESSAGES,
            "sent": sent,
            "seconds": round(seconds, 3),
            "provider_delay_ms": PROVIDER_DELAY_SECONDS * 1000,
            "provider_sends_received": creates,
            "statuses": statuses,
            "encodings": segments,
            "relay_concurrency": settings.NOTIFICATIONS_RELAY_CONCURRENCY,
            "relay_batch": settings.NOTIFICATIONS_RELAY_BATCH,
            "relay_runs_per_kick": settings.NOTIFICATIONS_RELAY_RUNS_PER_KICK,
            "worker": "celery -A control_plane worker (default pool and concurrency)",
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "goals": {"relay_msgs_per_s": ">= 100"},
        "goals_met": {"relay_msgs_per_s": per_s >= 100 and creates == MESSAGES},
        "note": NOTE,
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if creates == MESSAGES and sent == MESSAGES else 1


if __name__ == "__main__":
    sys.exit(main())
