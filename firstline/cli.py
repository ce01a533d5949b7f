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
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "firstline.wsgi:application",
        "--bind",
        args.bind,
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-",
        # Access log lines: method, path (public codes only, never personal values), status, time.
        "--access-logformat",
        '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    ]
    os.execv(sys.executable, command)


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
