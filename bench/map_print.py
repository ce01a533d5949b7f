"""Time the printed battle map: ``.venv/bin/python bench/map_print.py [--residents 37000] [--paper A1]``.

Builds the demo street in a throwaway data directory with its own SQLite database
(37,000 residents give its first community about 5,300 households), then times, as
that community's administrator, what the print job does (``status.map.render_map_pdf``):
the map drawn for paper, the page rendered, and WeasyPrint laying it out and writing
the PDF with Noto Sans CJK embedded. Prints one Markdown table. The PDF is made on
the job queue, so there is no per-request target; exit status 1 when it takes longer
than ``--limit`` seconds (default 60).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sqlite3
import sys
import tempfile
from datetime import datetime
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import setup_django


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=37000, help="size of the demo street (default 37000)")
    parser.add_argument("--paper", default="A1", choices=("A0", "A1", "A2", "A3"))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is shown (default 3)")
    parser.add_argument("--limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the PDF (paths printed)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="firstline-bench-print-")
    setup_django(data_dir)

    import weasyprint
    from django.core.management import call_command
    from django.db import connection
    from django.template.loader import render_to_string
    from django.utils import translation

    from firstline.accounts.models import Membership
    from firstline.demo.build import build_demo
    from firstline.demo.plan import make_plan
    from firstline.status.map import battle_map, render_map_pdf

    try:
        call_command("migrate", verbosity=0)
        build_demo(make_plan(args.seed, args.residents))
        membership = Membership.objects.select_related("user", "community__street").get(
            user__username="community_admin"
        )
        user, community = membership.user, membership.community
        translation.activate("zh-hans")

        times: dict[str, list[float]] = {"map": [], "page": [], "layout": [], "write": [], "whole": []}
        pdf, households = b"", 0
        for _ in range(args.repeat):
            started = perf_counter()
            the_map = battle_map(user, community, for_print=True)
            drawn = perf_counter()
            page = render_to_string(
                "status/map_print.html", {"map": the_map, "community": community, "paper": args.paper}
            )
            rendered = perf_counter()
            document = weasyprint.HTML(string=page).render()
            laid_out = perf_counter()
            document.write_pdf()
            written = perf_counter()
            times["map"].append(drawn - started)
            times["page"].append(rendered - drawn)
            times["layout"].append(laid_out - rendered)
            times["write"].append(written - laid_out)
            started = perf_counter()
            pdf, households = render_map_pdf(user, community, args.paper)
            times["whole"].append(perf_counter() - started)

        whole = min(times["whole"])
        print(f"# FirstLine printed map, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print()
        print(
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, WeasyPrint {weasyprint.__version__}"
        )
        print(
            f"- {community.name}: {households} households on {args.paper} landscape, {len(document.pages)} pages, "
            f"{len(pdf) // 1024} KB; best of {args.repeat}; peak memory "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
        )
        print()
        print("| step | seconds |")
        print("|---|--:|")
        for label, key in (
            ("map drawn for paper (queries, cells)", "map"),
            ("page rendered (template)", "page"),
            ("WeasyPrint layout", "layout"),
            ("WeasyPrint PDF written (fonts subset and embedded)", "write"),
            ("**whole job** (`render_map_pdf`)", "whole"),
        ):
            print(f"| {label} | {min(times[key]):.2f} |")
        if args.keep:
            path = os.path.join(data_dir, f"map-{args.paper}.pdf")
            with open(path, "wb") as out:
                out.write(pdf)
            print(f"\nPDF kept: {path}")
        return 0 if whole <= args.limit else 1
    finally:
        connection.close()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
