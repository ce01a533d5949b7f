"""Run the FirstLine benchmarks: ``.venv/bin/python bench/run.py [--residents 20000] [--requests 200]``.

Builds the demo street in a throwaway data directory with its own SQLite database,
then times every case of ``bench/cases.py`` in-process (django.test.Client, the
full middleware stack, a logged-in session) next to its bare reference, the two
called in turn, and prints one Markdown table. Times are wall-clock milliseconds
around each request. The machine is shared and noisy: compare the ratios within
one run, not the absolute numbers between runs. Exit status 1 when a case misses
its target.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from time import perf_counter
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20000, help="size of the demo street (default 20000)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests before each case (default 10)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--only", metavar="TEXT", help="run only the cases whose name contains TEXT")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="build the demo street in DIR and keep it, or time the one a run kept there the same day "
        "(--residents is then ignored)",
    )
    return parser.parse_args(argv)


def setup_django(data_dir: str) -> None:
    """Point FirstLine at ``data_dir`` before Django reads its settings."""
    os.environ["FIRSTLINE_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    os.environ.pop("DATABASE_URL", None)
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the host name django.test.Client sends
    os.environ.setdefault("FIRSTLINE_LOG_LEVEL", "WARNING")
    # One user pages the API hundreds of times: above the day's take-out threshold, which would
    # answer 429 (the limit is tested in the suite; here the page itself is timed).
    os.environ.setdefault("FIRSTLINE_EXPORT_APPROVAL_ROWS", "1000000000")
    import django

    django.setup()


def timings(
    subject: Callable[[], Any], reference: Callable[[], Any] | None, count: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of each call of ``subject`` and ``reference``, called in turn so that both meet the same load."""
    calls = [subject, reference] if reference else [subject]
    for _ in range(warmup):
        for call in calls:
            call()
    result: tuple[list[float], list[float]] = ([], [])
    for _ in range(count):
        for call, times in zip(calls, result, strict=False):
            started = perf_counter()
            call()
            times.append((perf_counter() - started) * 1000)
    return result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="firstline-bench-")
    os.makedirs(data_dir, exist_ok=True)
    setup_django(data_dir)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from firstline.accounts.models import Membership
    from firstline.demo.build import build_demo, street_exists
    from firstline.demo.plan import make_plan
    from firstline.people.models import Resident
    from firstline.places.models import Grid, Household

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cases import REGISTRY, Context

    try:
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        reused = street_exists()
        started = perf_counter()
        if reused:
            counts = {"residents": Resident.objects.count(), "households": Household.objects.count()}
            counts["grids"] = Grid.objects.count()
        else:
            counts = build_demo(make_plan(args.seed, args.residents))
        build_seconds = perf_counter() - started

        memberships = {m.user.username: m for m in Membership.objects.select_related("user", "community", "grid")}
        ctx = Context(
            db_path=str(settings.DATABASES["default"]["NAME"]),
            page_size=settings.LEDGER_PAGE_SIZE,
            users={name: m.user for name, m in memberships.items()},
            memberships=memberships,
        )
        ctx.sqlite.execute("PRAGMA query_only = ON")

        print(f"# FirstLine benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print()
        print(
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {connection.vendor}"
        )
        print(
            f"- demo street: {counts['residents']} residents, {counts['households']} households, "
            f"{counts['grids']} grids; {'kept from an earlier run' if reused else f'built in {build_seconds:.1f} s'}"
        )
        print(f"- {args.requests} timed requests per case after {args.warmup} untimed; page size {ctx.page_size}")
        print()
        print("| case | queries | p50 ms | p95 ms | max ms | reference p95 ms | ratio | target | result |")
        print("|---|--:|--:|--:|--:|--:|--:|---|---|")
        failed = 0
        for case in REGISTRY:
            if args.only and args.only not in case.name:
                continue
            trial = case.prepare(ctx)
            trial.check()
            subject, reference = timings(trial.subject, trial.reference, args.requests, args.warmup)
            times = p95(subject) / p95(reference) if reference else None
            ok = p95(subject) <= case.target_p95_ms
            target = f"p95 ≤ {case.target_p95_ms:.0f} ms"
            if case.max_ratio is not None:
                ok = ok and times is not None and times <= case.max_ratio
                target += f", ratio ≤ {case.max_ratio:g}"
            failed += not ok
            ref = f"{p95(reference):.2f}" if reference else "—"
            ratio = "—" if times is None else f"{times:.2f}×" if times < 10 else f"{times:.0f}×"
            print(
                f"| {case.name} | {trial.queries if trial.queries is not None else '—'} "
                f"| {statistics.median(subject):.1f} | {p95(subject):.1f} | {max(subject):.1f} "
                f"| {ref} | {ratio} | {target} | {'pass' if ok else 'FAIL'} |",
                flush=True,
            )
        return 1 if failed else 0
    finally:
        connection.close()
        if args.keep or args.data_dir:
            print(f"\ndata directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
