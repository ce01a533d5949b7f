"""``firstline audit verify``: walk the hash chain and report any edited, deleted or missing event."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from firstline.audit.log import verify


class Command(BaseCommand):
    help = "Audit log tools. verify: check that no event was edited or removed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["verify"])

    def handle(self, *args, **options) -> None:
        verdict = verify()
        if verdict.ok:
            self.stdout.write(f"OK: {verdict.checked} audit events, chain intact.")
            return
        for problem in verdict.problems:
            self.stderr.write(problem)
        self.stderr.write(f"FAILED: {len(verdict.problems)} problem(s) in {verdict.checked} events.")
        sys.exit(1)
