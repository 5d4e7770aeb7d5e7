from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _session_settings(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Settings every product connection runs with, for the ledger's prepared statements.

    - No JIT: the posting statements are short, but their CTEs carry planner estimates that can
      add up past ``jit_above_cost``; PostgreSQL then compiled a deposit with LLVM on every
      execution, measured at 30 to 400 ms for a statement that otherwise takes under a
      millisecond. Nothing the product runs is long enough to gain from it.
    - Generic plans for prepared statements: with custom plans PostgreSQL re-planned the posting
      statement on every execution (about 0.45 ms of a 1.2 ms deposit) because its estimates for
      array parameters favour custom plans. Only server-side prepared statements are affected
      (the ledger's, ``core_banking/ledger/db.py``; Django's own queries bind on the client) and
      PL/pgSQL's cached statements (the ledger's checks: key lookups).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off; SET plan_cache_mode = force_generic_plan")


class LedgerConfig(AppConfig):
    name = "core_banking.ledger"
    label = "ledger"
    verbose_name = "General ledger"

    def ready(self) -> None:
        connection_created.connect(_session_settings, dispatch_uid="coopcore_ledger_session_settings")
