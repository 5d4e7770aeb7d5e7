"""Control-plane benchmark: sign-up provisioning, fleet migrations, backup and restore.

Each part runs in a process and a database of its own (they need different settings and
populations) and writes its own file; this gathers their figures into
bench/results/control_plane.json under the keys the issue names:
``provision_median_s_1000_tenants`` (bench.control_plane_signup), ``migrate_all_s`` and
``migrate_noop_s``, each with ``ours`` and ``django_tenants_multiprocessing``
(bench.control_plane_fleet), ``backup_s_100k_lines`` and ``restore_s_100k_lines``
(bench.control_plane_backups).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import machine, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PARTS = {
    "control_plane_signup": ("provision_median_s_1000_tenants",),
    "control_plane_fleet": ("migrate_all_s", "migrate_noop_s"),
    "control_plane_backups": ("backup_s_100k_lines", "restore_s_100k_lines"),
}
GOALS = {
    "provision_median_s_1000_tenants": 1.0,
    "migrate_all_s": 60.0,
    "migrate_noop_s": 5.0,
}


def _met(key: str, value: Any) -> bool | None:
    goal = GOALS.get(key)
    if goal is None:
        return None
    return bool((value["ours"] if isinstance(value, dict) else value) < goal)


def main() -> int:
    figures: dict[str, Any] = {}
    failed = []
    for part, keys in PARTS.items():
        say(f"{part} ...")
        done = subprocess.run([sys.executable, "-m", f"bench.{part}"], cwd=ROOT, check=False)
        if done.returncode != 0:
            failed.append(part)
            continue
        measured = json.loads((RESULTS / f"{part}.json").read_text())
        figures.update({key: measured[key] for key in keys})
    result = {
        "benchmark": "control_plane",
        **figures,
        "goals": {key: f"< {goal}" for key, goal in GOALS.items()},
        "goals_met": {key: _met(key, figures[key]) for key in GOALS if key in figures},
        "failed_parts": failed,
        "details": {part: f"bench/results/{part}.json" for part in PARTS},
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (RESULTS / "control_plane.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
