"""``firstline export``: export a community's resident ledger as a given user, through the same actions as the web.

The user's scope and capabilities apply exactly as on the web: the export holds
what that user sees, unmasked only with ``unmask`` over every row and a reason,
and an export that needs approval is recorded as pending and the command exits 1
(download it after approval with ``--export CODE``). The file is written readable
by its owner only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from firstline.accounts.models import User
from firstline.audit.actions import do_download_export, do_request_export
from firstline.audit.exports import write_file
from firstline.audit.models import Export
from firstline.audit.queries import own_export_or_404
from firstline.people.queries import ResidentFilter
from firstline.places.models import Community
from firstline.scoping import get_visible_or_404


class Command(BaseCommand):
    help = (
        "Export the resident ledger of a community as USER (that user's scope and permissions apply). "
        "Prints the export ID and the file written; exits 1 when the export waits for approval."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="USERNAME", help="act as this user")
        parser.add_argument("--community", metavar="CODE", help="public code of the community")
        parser.add_argument("--export", metavar="CODE", help="download an export requested earlier (once approved)")
        parser.add_argument("--format", choices=Export.Format.values, default=Export.Format.XLSX)
        parser.add_argument("--out", metavar="FILE", help="file to write (default: firstline-<export id>.<format>)")
        parser.add_argument("--unmask", action="store_true", help="full ID numbers and phones (needs --reason)")
        parser.add_argument("--reason", default="", help="why the list is needed")
        parser.add_argument("--grid", default="", metavar="CODE")
        parser.add_argument("--building", default="", metavar="CODE")
        parser.add_argument("--status", default="")
        parser.add_argument("--flag", default="")
        parser.add_argument("--person-type", dest="person_type", default="")
        parser.add_argument("--name", default="", help="only residents whose name contains this")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {options['user']!r}.")
        try:
            export = self._export(user, options)
            if export.state != Export.State.READY:
                state = export.get_state_display()
                raise CommandError(
                    f"Export {export.code} ({export.row_count} rows) is {state}: it needs the approval of a "
                    "community administrator before it can be downloaded. Once approved, run: "
                    f"firstline export --user {user.get_username()} --export {export.code}"
                )
            prepared = do_download_export(user, export)
            path = Path(options["out"] or f"firstline-{export.code}.{export.format}").resolve()
            write_file(prepared, path)
        except PermissionDenied:
            raise CommandError(f"{user.get_username()} may not make this export.") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"export {export.code}")
        self.stdout.write(f"{prepared.watermark.rows} rows, {prepared.watermark.masking}")
        self.stdout.write(str(path))

    def _export(self, user: User, options: dict[str, Any]) -> Export:
        if options["export"]:
            try:
                return own_export_or_404(user, options["export"])
            except Http404:
                raise CommandError(f"{user.get_username()} has no export {options['export']!r}.") from None
        if not options["community"]:
            raise CommandError("Give --community CODE (or --export CODE for an approved export).")
        try:
            community = get_visible_or_404(Community.objects.visible_to(user), code=options["community"])
        except Http404:
            raise CommandError(f"{user.get_username()} sees no community {options['community']!r}.") from None
        filters = ResidentFilter(
            grid=options["grid"],
            building=options["building"],
            status=options["status"],
            flag=options["flag"],
            person_type=options["person_type"],
            q=options["name"],
        )
        return do_request_export(
            user, community, filters, format=options["format"], unmasked=options["unmask"], reason=options["reason"]
        )
