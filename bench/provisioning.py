"""Provisioning benchmark: clone path against the plain migrate path, with 10 and 200 cooperatives present.

Runs in a database of its own (<name>_bench, created and dropped here) so the figures do not
depend on what the development database holds. Writes bench/results/provisioning.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import bench_database_url, machine, recreate_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "provisioning.json"
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "11"))
POPULATIONS = (10, 200)


def main() -> int:
    bench_url, maintenance_url, name = bench_database_url("_bench")
    recreate_database(maintenance_url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        return _run()
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(maintenance_url, name, drop_only=True)


def _run() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tenants import services
    from tenants.models import Cooperative
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

    call_command("migrate_schemas", "--shared", verbosity=0)
    services.template_ensure()

    def migrate_instead_of_clone(cooperative: Cooperative) -> None:
        """The plain path: an empty schema and every tenant migration run against it."""
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{cooperative.schema_name}"')
        call_command("migrate_schemas", schema_name=cooperative.schema_name, interactive=False, verbosity=0)

    clone_step = services._clone_template
    counter = iter(range(1_000_000))

    def provision(*, with_password: bool = True) -> float:
        number = next(counter)
        spec = CooperativeSpec(name=f"Bench {number}", slug=f"bench-{number}", country="BD")
        # Filler cooperatives invite their admin (no password to hash); measured ones set a password.
        admin = AdminSpec(
            username="admin",
            password="bench-password-123" if with_password else None,
            email=f"admin@bench-{number}.example",
        )
        started = time.perf_counter()
        cooperative_provision(spec=spec, admin=admin)
        return time.perf_counter() - started

    def live_count() -> int:
        return Cooperative.objects.live().count()

    def fill_to(population: int) -> None:
        services._clone_template = clone_step
        while live_count() < population:
            provision(with_password=False)

    clone: dict[str, float] = {}
    migrate: dict[str, float] = {}
    samples: dict[str, dict[str, list[float]]] = {}
    for population in POPULATIONS:
        fill_to(population)
        # Interleaved, so that drift on the machine touches both paths alike.
        clone_times: list[float] = []
        migrate_times: list[float] = []
        for _ in range(SAMPLES):
            services._clone_template = clone_step
            clone_times.append(provision())
            services._clone_template = migrate_instead_of_clone
            migrate_times.append(provision())
        services._clone_template = clone_step
        clone[str(population)] = round(statistics.median(clone_times), 4)
        migrate[str(population)] = round(statistics.median(migrate_times), 4)
        samples[str(population)] = {
            "clone_s": [round(t, 4) for t in clone_times],
            "migrate_s": [round(t, 4) for t in migrate_times],
        }
        key = str(population)
        print(
            f"  {population:>4} present: clone {clone[key]:.3f} s, migrate {migrate[key]:.3f} s",
            file=sys.stderr,
        )

    result: dict[str, Any] = {
        "benchmark": "provisioning",
        "clone_median_s": clone,
        "migrate_median_s": migrate,
        "samples_per_point": SAMPLES,
        "samples": samples,
        "goal": "clone median under 1 s at 200 cooperatives, and not slower than migrate",
        "goal_met": clone["200"] < 1.0 and clone["200"] <= migrate["200"],
        "note": "Each provisioning includes the workspace seed (head office, admin with a hashed password, "
        "audit records) and the domain, in one transaction. 'N present' counts live cooperatives "
        "before the samples of that point are taken.",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
