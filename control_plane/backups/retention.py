"""Which backups a retention policy keeps: a pure function over dates, no Django.

The policy is the usual grandfather-father-son rotation, counted in the cooperative's own calendar:
the newest backup of each of the last ``daily`` days that have one, of each of the last ``weekly``
ISO weeks, and of each of the last ``monthly`` months. Days, weeks and months without a backup are
not counted, so a workspace whose backups stopped still keeps its last ones. Everything taken in
the last ``recent_hours`` is kept too (an on-demand or pre-restore backup is not thinned out by a
later backup of the same day), and the newest backup is always kept, whatever the policy says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetentionPolicy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    recent_hours: int = 24

    def __post_init__(self) -> None:
        if min(self.daily, self.weekly, self.monthly, self.recent_hours) < 0:
            raise ValueError("retention counts cannot be negative")


@dataclass(frozen=True)
class Candidate:
    """A good backup: its id, when it was taken, and that moment's date on the cooperative's clock."""

    id: int
    taken_at: dt.datetime
    local_date: dt.date


def _newest_per_period(
    newest_first: list[Candidate], count: int, period: Callable[[dt.date], Hashable]
) -> set[int]:
    kept: set[int] = set()
    seen: set[Hashable] = set()
    for candidate in newest_first:
        if len(seen) >= count:
            break
        key = period(candidate.local_date)
        if key not in seen:
            seen.add(key)
            kept.add(candidate.id)
    return kept


def backups_to_keep(
    candidates: Iterable[Candidate], policy: RetentionPolicy, *, now: dt.datetime
) -> set[int]:
    """The ids to keep at ``now``; every other candidate may be removed."""
    newest_first = sorted(candidates, key=lambda c: (c.taken_at, c.id), reverse=True)
    if not newest_first:
        return set()
    kept = {newest_first[0].id}
    recent = now - dt.timedelta(hours=policy.recent_hours)
    kept |= {candidate.id for candidate in newest_first if candidate.taken_at > recent}
    kept |= _newest_per_period(newest_first, policy.daily, lambda day: day)
    kept |= _newest_per_period(newest_first, policy.weekly, lambda day: day.isocalendar()[:2])
    kept |= _newest_per_period(newest_first, policy.monthly, lambda day: (day.year, day.month))
    return kept
