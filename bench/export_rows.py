"""Time ledger exports: ``.venv/bin/python bench/export_rows.py [--rows 100000]``.

Builds a small demo street in a throwaway data directory with its own SQLite
database, grows its first community to ``--rows`` residents by copying resident
rows in SQL (sealed fields included, so unmasking decrypts real ciphertexts), then
times, as the community administrator of that community, the whole export path —
``do_request_export`` + ``do_download_export`` + writing the file — next to its
reference: the same rows, already in memory as plain tuples, written with
XlsxWriter in constant_memory mode and nothing else. Prints one Markdown table.
Exit status 1 when the masked xlsx export misses its target.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from time import perf_counter
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import setup_django

TARGET_SECONDS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="residents to export (default 100000)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per case; the best is shown (default 1)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    return parser.parse_args(argv)


def grow_community(community_id: int, rows: int) -> int:
    """Copy the community's residents (new codes, same households and sealed values) until it holds ``rows``."""
    from django.db import connection, transaction

    from firstline.people.models import Resident

    table = connection.ops.quote_name(Resident._meta.db_table)
    columns = [field.column for field in Resident._meta.concrete_fields if field.column not in ("id", "code")]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE community_id = %s", [community_id])
            have = cursor.fetchone()[0]
            if have >= rows:
                return have
            cursor.execute(
                f"INSERT INTO {table} (code, {names}) SELECT lower(hex(randomblob(8))), {names} "
                f"FROM {table} WHERE community_id = %s ORDER BY id LIMIT %s",
                [community_id, rows - have],
            )


def best(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = perf_counter()
        result = call()
        times.append(perf_counter() - started)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="firstline-bench-export-")
    os.environ["FIRSTLINE_EXPORT_APPROVAL_ROWS"] = str(args.rows)  # the admin needs none anyway; keep it explicit
    setup_django(data_dir)

    import xlsxwriter
    from django.core.management import call_command
    from django.db import connection

    from firstline.accounts.models import Membership
    from firstline.audit.actions import do_download_export, do_request_export
    from firstline.audit.exports import columns, csv_chunks, rows_of, write_xlsx
    from firstline.demo.build import build_demo
    from firstline.demo.plan import make_plan
    from firstline.people.queries import ResidentFilter

    try:
        call_command("migrate", verbosity=0)
        started = perf_counter()
        build_demo(make_plan(args.seed, 3000))
        admin = Membership.objects.select_related("user", "community").get(role="community_admin")
        community = admin.community
        total = grow_community(community.id, args.rows)
        build_seconds = perf_counter() - started
        user = admin.user
        out_dir = tempfile.mkdtemp(dir=data_dir)

        def export(fmt: str, unmasked: bool) -> int:
            export = do_request_export(
                user, community, ResidentFilter(), format=fmt, unmasked=unmasked, reason="benchmark"
            )
            prepared = do_download_export(user, export)
            path = os.path.join(out_dir, prepared.filename)
            if fmt == "xlsx":
                rows = write_xlsx(prepared, path)
            else:
                with open(path, "wb") as out:
                    for chunk in csv_chunks(prepared):
                        out.write(chunk)
                rows = prepared.watermark.rows
            os.remove(path)
            return rows

        # The reference: the same rows as plain tuples in memory, written with XlsxWriter constant_memory alone.
        from firstline.people.models import Resident

        queryset = Resident.objects.filter(community=community, left_at__isnull=True)
        read_seconds, plain = best(lambda: [tuple(row) for row in rows_of(queryset, False)], 1)

        def reference() -> int:
            path = os.path.join(out_dir, "reference.xlsx")
            workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
            sheet = workbook.add_worksheet()
            write_string, write_number = sheet.write_string, sheet.write_number
            for row, cells in enumerate(plain):
                for column, cell in enumerate(cells):
                    if cell.__class__ is str:
                        if cell:
                            write_string(row, column, cell)
                    elif cell is not None:
                        write_number(row, column, cell)
            workbook.close()
            os.remove(path)
            return len(plain)

        cases = [
            ("xlsx · masked · community admin", "xlsx", False, TARGET_SECONDS),
            ("xlsx · unmasked · community admin", "xlsx", True, None),
            ("csv · masked · community admin", "csv", False, None),
        ]
        print(f"# FirstLine export benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print()
        print(
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {connection.vendor}, XlsxWriter {xlsxwriter.__version__}"
        )
        print(f"- one community of {total} residents, {len(columns())} columns; built in {build_seconds:.1f} s")
        print(f"- reading the rows alone (one query, labels, escaping, no file): {read_seconds:.1f} s")
        print(f"- best of {args.repeat} run(s) per case; the reference is timed right before each xlsx case")
        print()
        print("| case | rows | seconds | reference s | ratio | target | result |")
        print("|---|--:|--:|--:|--:|---|---|")
        failed = 0
        for name, fmt, unmasked, target in cases:
            reference_seconds = best(reference, args.repeat)[0] if fmt == "xlsx" else None
            seconds, rows = best(lambda fmt=fmt, unmasked=unmasked: export(fmt, unmasked), args.repeat)
            ok = target is None or seconds <= target
            failed += not ok
            ref = f"{reference_seconds:.1f}" if reference_seconds else "—"
            ratio = f"{seconds / reference_seconds:.2f}×" if reference_seconds else "—"
            goal = f"≤ {target:.0f} s" if target else "—"
            verdict = ("pass" if ok else "FAIL") if target else "—"
            print(f"| {name} | {rows} | {seconds:.1f} | {ref} | {ratio} | {goal} | {verdict} |", flush=True)
        return 1 if failed else 0
    finally:
        connection.close()
        if args.keep:
            print(f"\ndata directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
