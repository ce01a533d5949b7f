"""``firstline demo``: build the synthetic demo street in an empty database and print its logins."""

from __future__ import annotations

import unicodedata
from time import perf_counter

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from firstline.demo.build import (
    LoginRow,
    build_demo,
    existing_logins,
    plan_logins,
    street_exists,
    write_logins_json,
)
from firstline.demo.plan import MIN_RESIDENTS, make_plan


class Command(BaseCommand):
    help = (
        "Build a demo street of synthetic residents (two urban communities and a village) in an empty "
        "database, with one login per role, and print the logins. The same seed gives the same street."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2020, help="random seed (default 2020)")
        parser.add_argument("--residents", type=int, default=20000, help="number of residents (default 20000)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="if a street already exists, build nothing (but still print and write the demo logins)",
        )
        parser.add_argument("--logins-json", metavar="PATH", help="write the demo logins to this JSON file")

    def handle(self, *args, **options) -> None:
        seed, residents = options["seed"], options["residents"]
        if residents < MIN_RESIDENTS:
            raise CommandError(f"--residents must be at least {MIN_RESIDENTS}.")
        if street_exists():
            if not options["if_empty"]:
                raise CommandError(
                    "The database already holds a street: the demo is built only into an empty database "
                    "(use --if-empty to skip building)."
                )
            self.stdout.write("A street already exists: the demo street was not built again.")
            rows = existing_logins(seed)
        else:
            started = perf_counter()
            plan = make_plan(seed, residents, timezone.localdate())
            counts = build_demo(plan)
            seconds = perf_counter() - started
            summary = ", ".join(f"{count} {name}" for name, count in counts.items())
            self.stdout.write(self.style.SUCCESS(f"Demo street built in {seconds:.1f} s: {summary}."))
            rows = plan_logins(plan)
        if options["logins_json"]:
            write_logins_json(options["logins_json"], rows)
            self.stdout.write(f"Demo logins written to {options['logins_json']}.")
        self.stdout.write(login_table(rows))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def login_table(rows: list[LoginRow]) -> str:
    """The demo logins as an aligned table (Chinese characters count double)."""
    if not rows:
        return "No demo logins found."
    header = ("username", "password", "role", "place")
    lines = [(row.username, row.password or "(unknown)", row.role, row.place_name) for row in rows]
    widths = [max(_width(cell) for cell in column) for column in zip(header, *lines, strict=False)]
    out = ["Demo logins (synthetic data — do not use on a real deployment):"]
    for cells in (header, tuple("-" * w for w in widths), *lines):
        out.append("  ".join(_pad(cell, width) for cell, width in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(out)
