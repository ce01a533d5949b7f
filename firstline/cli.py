"""The ``firstline`` command: ``serve``, ``demo``, ``audit verify`` and every Django management command."""

from __future__ import annotations

import argparse
import os
import sys


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
    web = [
        sys.executable, "-m", "gunicorn", "firstline.wsgi:application",
        "--bind", args.bind, "--workers", str(args.workers), "--threads", str(args.threads),
        "--worker-class", "gthread", "--access-logfile", "-",
        # Access log lines: method, path (public codes only, never personal values), status, time.
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    ]  # fmt: skip
    jobs = [sys.executable, "-m", "firstline.cli", "run_huey", "--quiet"]
    supervise([web, jobs])


def supervise(commands: list[list[str]]) -> None:
    """Run the web server and the job consumer together; when one stops or we are told to stop, stop both."""
    import signal
    import subprocess
    import time

    children = [subprocess.Popen(command) for command in commands]

    def stop(*_args: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    sys.exit(max(child.returncode or 0 for child in children))


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstline.settings")
    if len(argv) > 1 and argv[1] == "serve":
        serve(argv[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["firstline", *argv[1:]])


if __name__ == "__main__":
    main()
