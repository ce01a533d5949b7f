"""Benchmark the ledger import: ``.venv/bin/python bench/import_rows.py [--rows 100000]``.

Target (issue 3): importing a 100,000-row xlsx takes at most 3× the time of reading
the same file with python-calamine plus a bare bulk insert of the same rows, both
measured in the same run.

In a throwaway ``FIRSTLINE_DATA_DIR`` (set before ``django.setup()``) with its own
SQLite database: migrate, build one community (4 grids, 100 buildings "1栋"…"100栋"
with no households yet), write a returnee list of ``--rows`` distinct people with
the columns 姓名, 性别, 身份证号, 联系电话, 楼栋, 单元, 房号, 来源地, 返回时间, 车次, then time

- **import**: ``importing.apply.import_file`` as ``firstline import`` runs it — read
  and parse every cell, plan every row, and in one transaction insert the
  households and entrances, the residents (ID number and phone sealed and indexed),
  their first versions, their arrival movements, one import row per row and one
  audit event;
- **reference**: ``CalamineWorkbook...to_python()`` on the same file, then one
  ``sqlite3`` ``executemany`` INSERT of the same rows into a scratch table with the
  same number of columns, committed, in the same database file. The reference runs
  before and after the import; the faster of the two counts (the stricter ratio).

For the breakdown (not part of the ratio): the parse alone (``parse.read_sheet`` in
this process; the import runs it in a child process, overlapping the planning), the
sealing alone (``actions.seal_fields`` on every row, ``trusted`` as the import calls
it), and, timed inside the import, its writing: the ``executemany`` inserts into the
indexed tables (rows adapted and inserted) and the commit.
Exit status 1 when the ratio misses the target.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any

TARGET = 3.0
HEADER = ["姓名", "性别", "身份证号", "联系电话", "楼栋", "单元", "房号", "来源地", "返回时间", "车次"]
BUILDINGS = 100
ORIGINS = ("湖北武汉", "湖北孝感", "湖北黄冈", "广东深圳", "浙江温州")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file (default 100000)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    return parser.parse_args(argv)


def setup_django(data_dir: str) -> None:
    os.environ["FIRSTLINE_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("FIRSTLINE_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def rows(count: int) -> Any:
    """The header and ``count`` distinct valid people (synthetic IDs with valid check digits)."""
    from firstline.people.idcard import check_char

    yield HEADER
    surnames = "张王李赵刘陈杨黄周吴"
    given = "伟芳娜敏静丽强磊军洋"
    for i in range(count):
        born = date(1940, 1, 1) + timedelta(days=(i // 1000) * 97 % 25_000)
        body = f"4201{i % 10:02d}{born:%Y%m%d}{i % 1000:03d}"
        home = i // 3  # about three people per household
        entrance, floor, room = 1 + home % 4, 1 + (home // 4) % 18, 1 + (home // 72) % 4
        yield [
            f"{surnames[i % 10]}{given[i // 10 % 10]}{i}",
            "男" if int(body[16]) % 2 else "女",
            body + check_char(body),
            f"1{7 + i % 3}{i:09d}",
            f"{1 + (home // 288) % BUILDINGS}栋",
            entrance,
            f"{floor}{room:02d}",
            ORIGINS[i % len(ORIGINS)],
            date(2020, 1, 1) + timedelta(days=i % 40),
            ("G", "D", "K", "Z")[i % 4] + str(100 + i % 900),
        ]


def reference(path: str, database: str) -> tuple[float, float, float]:
    """Seconds to read the file with calamine, and to insert its rows bare; and their sum."""
    from python_calamine import CalamineWorkbook

    started = perf_counter()
    data = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    read = perf_counter() - started
    body = [[str(cell) if isinstance(cell, date | datetime) else cell for cell in row] for row in data[1:]]
    connection = sqlite3.connect(database)
    columns = ", ".join(f"c{i}" for i in range(len(HEADER)))
    connection.execute("DROP TABLE IF EXISTS bench_scratch")
    connection.execute(f"CREATE TABLE bench_scratch (id INTEGER PRIMARY KEY, {columns})")
    connection.commit()
    started = perf_counter()
    with connection:
        connection.executemany(
            f"INSERT INTO bench_scratch ({columns}) VALUES ({', '.join('?' * len(HEADER))})",
            body,
        )
    insert = perf_counter() - started
    connection.execute("DROP TABLE bench_scratch")
    connection.close()
    return read, insert, read + insert


def timed(owner: Any, name: str, totals: dict[str, float], key: str) -> None:
    """Add the time spent in ``owner.name`` to ``totals[key]`` (for the breakdown only)."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += perf_counter() - started

    setattr(owner, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="firstline-bench-import-")
    setup_django(data_dir)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from firstline.people.actions import seal_fields
    from firstline.people.importing import apply
    from firstline.people.importing.apply import import_file
    from firstline.people.importing.parse import read_sheet
    from firstline.people.models import Movement, Resident
    from firstline.people.tests.sheets import write_xlsx
    from firstline.places.models import Building, Community, Grid, Household, Street

    try:
        call_command("migrate", verbosity=0)
        street = Street.objects.create(name="幸福街道")
        community = Community.objects.create(street=street, name="幸福社区")
        grids = [Grid.objects.create(community=community, name=f"第{n}网格") for n in range(1, 5)]
        for n in range(1, BUILDINGS + 1):
            Building.objects.create(grid=grids[n % len(grids)], name=f"{n}栋", floors=18)
        path = os.path.join(data_dir, "returnees.xlsx")
        started = perf_counter()
        write_xlsx(path, rows(args.rows), constant_memory=True)
        written = perf_counter() - started
        database = str(settings.DATABASES["default"]["NAME"])

        ref_before = reference(path, database)
        started = perf_counter()
        parsed = read_sheet(path)
        parse_seconds = perf_counter() - started
        scratch = Resident()
        started = perf_counter()
        for row in parsed.rows:
            scratch.birth_date, scratch.sex = None, ""
            seal_fields(scratch, row.fields["id_number"], row.fields["phone"], trusted=True)
        seal_seconds = perf_counter() - started
        del parsed
        writing = {"insert": 0.0, "commit": 0.0}
        timed(apply._Table, "write", writing, "insert")
        timed(connection, "commit", writing, "commit")
        started = perf_counter()
        job, outcome = import_file(path, community, source="区指挥部", batch="第1批")
        import_seconds = perf_counter() - started
        ref_after = reference(path, database)
        best = min(ref_before, ref_after, key=lambda r: r[2])

        assert job is not None and outcome.created == args.rows and not outcome.problems, outcome.counts()
        assert Resident.objects.filter(community=community).count() == args.rows
        assert Movement.objects.filter(community=community).count() == args.rows
        ratio = import_seconds / best[2]
        ok = ratio <= TARGET

        print(f"# FirstLine import benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print()
        print(
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {connection.vendor}"
        )
        print(
            f"- file: {args.rows} rows × {len(HEADER)} columns, {os.path.getsize(path) / 1e6:.1f} MB xlsx "
            f"(written in {written:.1f} s); {Household.objects.count()} households and "
            f"{args.rows} residents created"
        )
        print()
        print("| measure | seconds |")
        print("|---|--:|")
        print(f"| reference: calamine read | {best[0]:.2f} |")
        print(f"| reference: bare executemany insert | {best[1]:.2f} |")
        print(f"| **reference total** (faster of 2 runs: {ref_before[2]:.2f}, {ref_after[2]:.2f}) | {best[2]:.2f} |")
        print(f"| parse alone (`read_sheet` in one process, not in the ratio) | {parse_seconds:.2f} |")
        print(f"| sealing alone (`seal_fields(trusted=True)` on every row, not in the ratio) | {seal_seconds:.2f} |")
        print(f"| **import** (`firstline import`: parse ∥ plan, then write) | {import_seconds:.2f} |")
        print(f"| … of which inserting (`executemany` into the indexed tables) | {writing['insert']:.2f} |")
        print(f"| … of which the commit | {writing['commit']:.2f} |")
        print()
        print(f"ratio import / reference: **{ratio:.2f}×** (target ≤ {TARGET:.0f}×): {'pass' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        connection.close()
        if args.keep:
            print(f"\ndata directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
