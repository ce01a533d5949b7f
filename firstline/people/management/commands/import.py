"""``firstline import FILE --community CODE``: a spreadsheet into a community's ledger, from the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from firstline.accounts.models import User
from firstline.people.importing.apply import Outcome, import_file, stored_problems
from firstline.people.importing.parse import UnreadableFile
from firstline.people.importing.report import write_report
from firstline.places.models import Community

SHOWN_PROBLEMS = 20


class Command(BaseCommand):
    help = (
        "Import a spreadsheet (.xlsx, .xls, .ods or .csv) into the ledger of one community: rows whose ID number "
        "matches a resident update that resident, other rows add residents. All or nothing unless --accept-valid. "
        "The exit status is not 0 when the file is refused or cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the spreadsheet to import")
        parser.add_argument("--community", required=True, metavar="CODE", help="public code of the community")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="who imports (needs to edit the ledger of the whole community); "
            "without it the import is recorded as done from the console",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="read and plan, count what would happen, write nothing"
        )
        parser.add_argument(
            "--accept-valid", action="store_true", help="import the valid rows even if others have problems"
        )
        parser.add_argument("--source", default="", help="where the list comes from, e.g. 区指挥部")
        parser.add_argument("--batch", default="", help="the list's batch number, e.g. 第3批")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--report", metavar="FILE", help="write the problem report (xlsx) to FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        community = Community.objects.filter(code=options["community"]).first()
        if community is None:
            raise CommandError(f"No community with the code {options['community']!r}.")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {options['user']!r}.")
        try:
            job, outcome = import_file(
                path,
                community,
                actor=actor,
                source=options["source"],
                batch=options["batch"],
                accept_valid=options["accept_valid"],
                dry_run=options["dry_run"],
            )
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        except PermissionDenied:
            raise CommandError(f"{actor} may not import into the ledger of this community.") from None

        counts = job.counts() if job is not None else outcome.counts()
        if options["report"]:
            write_report(stored_problems(job, [*outcome.problems, *outcome.duplicates]), options["report"], path.name)
        if options["json"]:
            errors = [{"row": p.row, "column": p.column, "problem": str(p.message)} for p in outcome.problems]
            self.stdout.write(json.dumps({**counts, "errors": errors}, ensure_ascii=False))
        else:
            self._summary(job, outcome, counts, options)
        if outcome.status == "refused":
            if not outcome.rows:
                reason = "the file has no data rows."
            elif outcome.errors == outcome.rows:
                reason = "no row is valid."
            else:
                reason = "rows have problems (use --accept-valid to import the valid rows)."
            raise CommandError(f"Nothing was imported: {reason}")

    def _summary(self, job: Any, outcome: Outcome, counts: dict[str, int], options: dict[str, Any]) -> None:
        planned = " (dry run: what would happen)" if options["dry_run"] else ""
        self.stdout.write(
            f"{counts['rows']} rows{planned}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['possible_duplicates']} possible duplicates "
            f"(not merged: check them by hand), {counts['errors']} with problems."
        )
        for problem in outcome.problems[:SHOWN_PROBLEMS]:
            self.stdout.write(f"  row {problem.row}, {problem.column or '-'}: {problem.message}")
        if len(outcome.problems) > SHOWN_PROBLEMS:
            self.stdout.write(f"  … and {len(outcome.problems) - SHOWN_PROBLEMS} more problems (see --report).")
        if options["report"]:
            self.stdout.write(f"Problem report written to {options['report']}.")
        if job is not None and outcome.status != "refused":
            self.stdout.write(self.style.SUCCESS(f"Import {job.code} applied."))
        elif options["dry_run"] and outcome.status != "refused":
            self.stdout.write("Dry run: nothing was written.")
