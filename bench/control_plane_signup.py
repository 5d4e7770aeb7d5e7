"""Sign-up benchmark: from a paid sign-up to a ready workspace, with 1,000 cooperatives present.

Runs in a database of its own (<name>_signup, created and dropped here):

1. Shared migrations, the template, and ``BENCH_SIGNUP_TENANTS`` (default 1,000) cooperatives
   provisioned through ``cooperative_provision`` (the filler, in two processes; not measured).
2. ``BENCH_SAMPLES`` (default 11) sign-ups stored as paid, as Checkout's webhook leaves them, and
   each made into its workspace by ``onboarding.services.signup_provision``, the task that runs
   after payment: the clone of the template, the seed, the admin with the password chosen at
   sign-up, the starter products, the billing account and the move to active. Timed one by one.

Prints the figures and returns them (``measure``); ``python -m bench.control_plane_signup``
writes bench/results/control_plane_signup.json. BENCH_SIGNUP_KEEP_DATABASE=1 keeps the database
(and its cooperatives) for the next run, which then only provisions what is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import bench_database_url, database_exists, machine, recreate_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "control_plane_signup.json"
TENANTS = int(os.environ.get("BENCH_SIGNUP_TENANTS", "1000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "11"))
FILLERS = 2


def _fill(numbers: list[int]) -> int:
    """Provision the filler cooperatives ``numbers`` (in a process of its own)."""
    import django

    django.setup()
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

    for number in numbers:
        cooperative_provision(
            spec=CooperativeSpec(name=f"Filler {number}", slug=f"filler-{number}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email=f"admin@filler-{number}.example"),
        )
    return len(numbers)


def _paid_signup(number: int, run: str) -> int:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from billing.models import Plan
    from onboarding.models import SignUp, SignUpStatus

    plan = Plan.objects.filter(is_public=True).order_by("sort_order").first()
    assert plan is not None, "the plans are seeded by billing's migrations"
    price = plan.price_for("BDT") or plan.prices.first()
    now = timezone.now()
    signup = SignUp.objects.create(
        plan=plan,
        billing_currency=price.currency,
        name=f"Sample samity {number}",
        country="BD",
        currency="BDT",
        default_language="bn",
        slug=f"sample-{run}-{number}",
        admin_name="Sample admin",
        admin_email=f"admin@sample-{run}-{number}.example",
        admin_password_hash=make_password("sample-password-123"),
        status=SignUpStatus.PAID,
        payment_status="paid",
        stripe_checkout_session_id=f"cs_bench_{run}_{number}",
        paid_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )
    return int(signup.pk)


def _measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from onboarding.services import signup_provision
    from tenants import services
    from tenants.models import Cooperative

    call_command("migrate_schemas", "--shared", verbosity=0)
    services.template_ensure()
    present_slugs = set(Cooperative.objects.filter(slug__startswith="filler-").values_list("slug", flat=True))
    samples = Cooperative.objects.live().exclude(slug__startswith="filler-").count()
    missing = [number for number in range(TENANTS - samples) if f"filler-{number}" not in present_slugs]
    started = time.perf_counter()
    connections.close_all()  # the fillers open their own
    with ProcessPoolExecutor(FILLERS) as pool:
        slices = [missing[offset::FILLERS] for offset in range(FILLERS)]
        filled = sum(pool.map(_fill, slices))
    fill_s = time.perf_counter() - started
    present = Cooperative.objects.live().count()
    say(f"  {present:,} cooperatives present ({filled:,} provisioned in {fill_s:.0f} s)")
    times: list[float] = []
    run = time.strftime("%H%M%S")  # a kept database already has the samples of earlier runs
    for number in range(SAMPLES):
        signup_id = _paid_signup(number, run)
        started = time.perf_counter()
        outcome = signup_provision(signup_id=signup_id)
        times.append(time.perf_counter() - started)
        assert outcome.startswith("provisioned"), outcome
    median = statistics.median(times)
    say(f"  sign-up to workspace: median {median:.3f} s over {SAMPLES} with {present:,} present")
    return {
        "provision_median_s_1000_tenants": round(median, 3),
        "details": {
            "cooperatives_present": present,
            "samples_s": [round(value, 3) for value in times],
            "fill_s": round(fill_s, 1),
        },
    }


def measure() -> dict[str, Any]:
    keep = os.environ.get("BENCH_SIGNUP_KEEP_DATABASE") == "1"
    bench_url, maintenance_url, name = bench_database_url("_signup")
    if not (keep and database_exists(maintenance_url, name)):
        recreate_database(maintenance_url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        return _measure()
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            recreate_database(maintenance_url, name, drop_only=True)


def main() -> int:
    figures = measure()
    result = {
        "benchmark": "control_plane_signup",
        **figures,
        "goal": "median under 1 s",
        "goal_met": figures["provision_median_s_1000_tenants"] < 1.0,
        "note": "A paid sign-up made into its workspace by the task that runs after payment "
        "(onboarding.services.signup_provision), one after another, with the given number of "
        "cooperatives already provisioned in the same database.",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
