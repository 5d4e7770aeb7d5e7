"""Control-plane benchmark: sign-up provisioning, fleet migrations, backup and restore.

Each part runs in a process and a database of its own (they need different settings and
populations) and writes its own file; this gathers their figures into
bench/results/control_plane.json under the keys the issue names:
``provision_median_s_1000_tenants`` (bench.control_plane_signup), ``migrate_all_s`` and
``migrate_noop_s``, each with ``ours`` and ``django_tenants_multiprocessing``
(bench.control_plane_fleet), ``backup_s_100k_lines`` and ``restore_s_100k_lines``
(bench.control_plane_backups).

``python -m bench.control_plane --only control_plane_signup`` runs the parts named and takes the
others' figures from their last results, each with the time it was measured (``parts_measured_at``);
``--gather`` runs none.
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


def _parts_to_run(argv: list[str]) -> list[str]:
    """All parts, or those named after ``--only``, or none with ``--gather`` (the others are read
    from their last results)."""
    if "--gather" in argv:
        return []
    if "--only" not in argv:
        return list(PARTS)
    named = argv[argv.index("--only") + 1 :]
    unknown = [name for name in named if name not in PARTS]
    if not named or unknown:
        raise SystemExit(f"--only takes part names among {', '.join(PARTS)}; got {named}")
    return named


def main(argv: list[str] | None = None) -> int:
    to_run = _parts_to_run(sys.argv[1:] if argv is None else argv)
    figures: dict[str, Any] = {}
    measured_at: dict[str, str | None] = {}
    failed = []
    for part, keys in PARTS.items():
        if part in to_run:
            say(f"{part} ...")
            done = subprocess.run([sys.executable, "-m", f"bench.{part}"], cwd=ROOT, check=False)
            if done.returncode != 0:
                failed.append(part)
                continue
        path = RESULTS / f"{part}.json"
        if not path.exists():
            failed.append(part)
            continue
        measured = json.loads(path.read_text())
        figures.update({key: measured[key] for key in keys})
        # A part not run now keeps the figures of its last run: each says when that was.
        measured_at[part] = measured.get("measured_at")
    result = {
        "benchmark": "control_plane",
        **figures,
        "goals": {key: f"< {goal}" for key, goal in GOALS.items()},
        "goals_met": {key: _met(key, figures[key]) for key in GOALS if key in figures},
        "failed_parts": failed,
        "details": {part: f"bench/results/{part}.json" for part in PARTS},
        "parts_measured_at": measured_at,
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (RESULTS / "control_plane.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
