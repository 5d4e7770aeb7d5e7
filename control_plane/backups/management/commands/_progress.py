"""What the backup commands share: finding a cooperative and printing a run's progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from control_plane.backups.models import Phase
from control_plane.errors import BusinessRuleViolation
from tenants.models import Cooperative


def cooperative_named(slug: str) -> Cooperative:
    cooperative = Cooperative.objects.filter(slug=slug, is_template=False).first()
    if cooperative is None:
        raise CommandError(f"No cooperative {slug!r}.")
    return cooperative


def printer(stdout: OutputWrapper) -> Any:
    """A progress callback that prints a line per phase and per ten percent."""
    last: dict[str, Any] = {"phase": None, "tenth": -1}

    def show(percent: int, phase: str) -> None:
        tenth = percent // 10
        if phase != last["phase"] or tenth != last["tenth"]:
            label = Phase(phase).label if phase in Phase.values else phase
            stdout.write(f"  {percent:3d}%  {label}")
            last.update(phase=phase, tenth=tenth)

    return show


def refused(exc: BusinessRuleViolation) -> CommandError:
    return CommandError(f"[{exc.code}] {exc.message}")
