"""``firstline audit verify|anchor``: check the hash chain against its head and its anchors; sign and keep the head."""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from firstline.audit.actions import do_anchor_chain
from firstline.audit.log import verify


class Command(BaseCommand):
    help = (
        "Audit log tools. verify: check that no event was edited or removed (against the head and every anchor). "
        "anchor: write the signed chain head outside the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["verify", "anchor"])
        parser.add_argument(
            "--also",
            action="append",
            default=[],
            metavar="PATH",
            help="a second anchors file (or folder), e.g. on a mounted disk: written by anchor, read by verify",
        )

    def handle(self, *args, **options) -> None:
        if options["what"] == "anchor":
            try:
                done = do_anchor_chain(also=options["also"])
            except ValidationError as error:
                self.stderr.write(" ".join(error.messages))
                sys.exit(1)
            self.stdout.write(
                _("Anchored: %(count)s audit events, written to %(where)s.")
                % {"count": done.anchor["count"], "where": ", ".join(done.written)}
            )
            if done.sent_to_parent:
                self.stdout.write(_("Sent to the parent deployment."))
            if done.parent_failed:
                self.stderr.write(
                    _(
                        "Could not send the anchor to the parent deployment. "
                        "Check FIRSTLINE_AUDIT_ANCHOR_URL and try again."
                    )
                )
                sys.exit(1)
            return
        verdict = verify(also=options["also"])
        if verdict.ok:
            self.stdout.write(f"OK: {verdict.checked} audit events, chain intact.")
            return
        for problem in verdict.problems:
            self.stderr.write(problem)
        self.stderr.write(
            _("FAILED: %(problems)s problem(s) in %(checked)s events. Keep a copy of the database and report it.")
            % {"problems": len(verdict.problems), "checked": verdict.checked}
        )
        sys.exit(1)
