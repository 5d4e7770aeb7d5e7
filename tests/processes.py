"""Real server and worker processes for tests: started on the test database, stopped afterwards."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import subprocess_environment

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running_process(
    command: list[str], *, name: str, log_path: Path, ready: Callable[[], bool], timeout: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``, wait until ``ready()`` answers true, and stop it on the way out.

    Fails the test with the end of the process's log if it exits or never gets ready.
    """
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=subprocess_environment(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                pytest.fail(f"the {name} exited: {log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the {name} was not ready within {timeout:.0f} s: {log_path.read_text()[-3000:]}"
                )
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
