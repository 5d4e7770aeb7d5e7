"""Work run in threads, each with its own connection, so that each thread's writes really commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django_tenants.utils import tenant_context

from tenants.models import Cooperative


def in_threads(count: int, work: Callable[[int], Any], cooperative: Cooperative) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(number: int) -> None:
        try:
            with tenant_context(cooperative):
                barrier.wait()
                results[number] = work(number)
        except Exception as exc:
            results[number] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
