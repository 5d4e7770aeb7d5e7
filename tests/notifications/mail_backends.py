"""A mail server at its edge: answers the next sends as scripted, then takes messages (locmem)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.mail.backends.locmem import EmailBackend


class ScriptedBackend(EmailBackend):
    """Each send takes the next answer from ``script``: an exception is raised (the server refused, or
    the connection dropped), ``None`` delivers to ``django.core.mail.outbox``. ``calls`` counts sends."""

    script: ClassVar[list[BaseException | None]] = []
    calls: ClassVar[int] = 0

    @classmethod
    def reset(cls, script: Sequence[BaseException | None]) -> None:
        cls.script = list(script)
        cls.calls = 0

    def send_messages(self, messages: Any) -> int:
        type(self).calls += 1
        answer = type(self).script.pop(0) if type(self).script else None
        if answer is not None:
            raise answer
        return int(super().send_messages(messages))
