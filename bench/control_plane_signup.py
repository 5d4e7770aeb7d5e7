"""Sign-up benchmark: from a paid sign-up to a ready workspace, with 1,000 cooperatives present.

Runs in a database of its own (<name>_signup, created and dropped here):

1. Shared migrations, the template, and ``BENCH_SIGNUP_TENANTS`` (default 1,000) cooperatives,
   made as the fleet benchmark makes them (the template's DDL replayed under each one's name and
   its rows copied, two processes; not measured): what matters to a new sign-up is how big the
   system catalogs are, and a clone per filler would take most of an hour here.
2. ``BENCH_SAMPLES`` (default 11) sign-ups stored as paid, as Checkout's webhook leaves them, and
   each made into its workspace by ``onboarding.services.signup_provision``, the task that runs
   after payment: a spare workspace renamed into place (``tenants/spares.py``), the seed, the
   admin with the password hash kept at sign-up, the starter products, the billing account and the
   move to active. Before each, the spare pool is refilled to one, as the refill queued after the
   previous provisioning (and beat, every minute) leaves it. Timed one by one: that is
   ``provision_median_s_1000_tenants``.
3. ``BENCH_CLONE_SAMPLES`` (default 5) more with the pool empty, which clone the template while the
   person waits: ``details.clone_path_median_s``, what a sign-up costs when spares run out.

Prints the figures and returns them (``measure``); ``python -m bench.control_plane_signup``
writes bench/results/control_plane_signup.json. BENCH_SIGNUP_KEEP_DATABASE=1 keeps the database
(and its cooperatives) for the next run, which then only makes what is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import bench_database_url, database_exists, machine, recreate_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "control_plane_signup.json"
TENANTS = int(os.environ.get("BENCH_SIGNUP_TENANTS", "1000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "11"))
CLONE_SAMPLES = int(os.environ.get("BENCH_CLONE_SAMPLES", "5"))


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


def _timed_signup(number: int, run: str) -> float:
    from onboarding.services import signup_provision

    signup_id = _paid_signup(number, run)
    started = time.perf_counter()
    outcome = signup_provision(signup_id=signup_id)
    elapsed = time.perf_counter() - started
    assert outcome.startswith("provisioned"), outcome
    return elapsed


def _measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.control_plane_fleet import _provision as copy_workspaces
    from tenants import services, spares
    from tenants.models import Cooperative

    # The bench refills the pool itself, between samples; no refill task is queued.
    settings.TENANT_SPARE_WORKSPACES = 0
    call_command("migrate_schemas", "--shared", verbosity=0)
    services.template_ensure()
    present = Cooperative.objects.live().count()
    fill_s = 0.0
    if present < TENANTS:
        copies = Cooperative.objects.filter(slug__startswith="fleet-").count()
        fill_s = copy_workspaces(copies + TENANTS - present)
        present = Cooperative.objects.live().count()
    say(f"  {present:,} cooperatives present (made in {fill_s:.0f} s)")
    run = time.strftime("%H%M%S")  # a kept database already has the samples of earlier runs
    times: list[float] = []
    for number in range(SAMPLES):
        spares.spares_refill(target=1)
        times.append(_timed_signup(number, run))
    clone_times: list[float] = []
    for number in range(SAMPLES, SAMPLES + CLONE_SAMPLES):
        assert spares.spares_ready() == 0
        clone_times.append(_timed_signup(number, run))
    median = statistics.median(times)
    clone_median = statistics.median(clone_times) if clone_times else None
    say(f"  sign-up to workspace: median {median:.3f} s over {SAMPLES} with {present:,} present")
    if clone_median is not None:
        say(f"  with no spare ready (clone while waiting): median {clone_median:.3f} s over {CLONE_SAMPLES}")
    return {
        "provision_median_s_1000_tenants": round(median, 3),
        "details": {
            "cooperatives_present": present,
            "samples_s": [round(value, 3) for value in times],
            "clone_path_median_s": round(clone_median, 3) if clone_median is not None else None,
            "clone_path_samples_s": [round(value, 3) for value in clone_times],
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
        "cooperatives already in the same database and a spare workspace ready (the pool is refilled "
        "to one before each, as the refill queued after each provisioning leaves it); "
        "details.clone_path_median_s is the same with no spare ready (the template cloned while "
        "the person waits).",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
