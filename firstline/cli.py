"""The ``firstline`` command: ``serve``, ``demo``, ``audit verify`` and every Django management command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="firstline serve", description="Serve FirstLine with gunicorn.")
    parser.add_argument("--bind", default=os.environ.get("FIRSTLINE_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FIRSTLINE_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("FIRSTLINE_THREADS", "4")))
    args = parser.parse_args(argv)

    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    supervise(web_command(args.bind, args.workers, args.threads, settings.DATA_DIR), jobs_command())


def web_command(bind: str, workers: int, threads: int, data_dir: Path) -> list[str]:
    """gunicorn's arguments: its control socket in this instance's data directory, never a path shared
    by every instance of the user (gunicorn's default is ``~/.gunicorn/gunicorn.ctl``)."""
    run = data_dir / "run"
    run.mkdir(parents=True, mode=0o700, exist_ok=True)
    socket_path = run / "gunicorn.ctl"
    # A Unix socket path holds at most 107 bytes; a deeper data directory serves without one.
    control = (
        ["--control-socket", str(socket_path)] if len(str(socket_path).encode()) < 100 else ["--no-control-socket"]
    )
    return [
        sys.executable, "-m", "gunicorn", "firstline.wsgi:application",
        "--bind", bind, "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--access-logfile", "-", *control,
        # Access log lines: method, path (public codes only, never personal values), status, time;
        # control characters in any of them are escaped (firstline/serving.py).
        "--logger-class", "firstline.serving.AccessLogger",
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    ]  # fmt: skip


def jobs_command() -> list[str]:
    return [sys.executable, "-m", "firstline.cli", "run_huey", "--quiet"]


def supervise(web: list[str], jobs: list[str], backoff_max: float = 30.0) -> None:
    """Run the web server and the job consumer together.

    If the job consumer ends (a crash, a kill), it is started again after a pause
    (1 s, doubling to ``backoff_max``; back to 1 s once it ran a minute) and the web
    server keeps serving. If the web server ends, or we are told to stop (SIGTERM,
    SIGINT), both stop.
    """
    import signal
    import subprocess
    import time

    server = subprocess.Popen(web)
    consumer = subprocess.Popen(jobs)
    started, pause = time.monotonic(), 1.0
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True
        for child in (server, consumer):
            if child.poll() is None:
                child.terminate()

    told: list[bool] = []

    def told_to_stop(*_args: object) -> None:
        told.append(True)
        stop()

    signal.signal(signal.SIGTERM, told_to_stop)
    signal.signal(signal.SIGINT, told_to_stop)
    try:
        while not stopping and server.poll() is None:
            time.sleep(0.2)
            if stopping or consumer.poll() is None:
                continue
            if time.monotonic() - started > 60:
                pause = 1.0
            print(
                f"firstline serve: the job consumer ended (exit {consumer.returncode}); "
                f"starting it again in {pause:g} s",
                file=sys.stderr,
                flush=True,
            )
            deadline = time.monotonic() + pause
            while not stopping and server.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if stopping or server.poll() is not None:
                break
            consumer = subprocess.Popen(jobs)
            started, pause = time.monotonic(), min(pause * 2, backoff_max)
    finally:
        stop()
        for child in (server, consumer):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    code = server.returncode or 0
    sys.exit(0 if told else code if code > 0 else 1 if code < 0 else 0)  # killed by a signal: 1


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    # Files the server makes (the database and its WAL, the job queue, secrets, anchors) are the server
    # user's alone: 0600 files, 0700 folders.
    os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstline.settings")
    if len(argv) > 1 and argv[1] == "serve":
        serve(argv[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["firstline", *argv[1:]])


if __name__ == "__main__":
    main()
