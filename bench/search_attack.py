"""Replay the unthrottled phone search of the outside test: ``.venv/bin/python bench/search_attack.py``.

Makes a throwaway data directory with its own SQLite database, one community with a
grid worker holding a device token and one resident, and sends ``--searches`` exact
phone searches (``POST /api/v1/residents/search``, every candidate of a masked
``170****5678``) in a row, as the attack did (923 answered in 2.6 s before). Prints how
many were answered, how many refused with 429, how long it took, and how many
``search`` audit events were written. Exit status 1 when more searches were answered
than the limit allows or a search went unaudited.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=923)
    args = parser.parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="firstline-bench-search-")
    try:
        setup_django(data_dir)
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from firstline.accounts.actions import do_issue_token
        from firstline.accounts.models import Membership, User
        from firstline.audit.models import AuditEvent
        from firstline.people.actions import do_create_resident
        from firstline.places.models import Building, Community, Entrance, Grid, Household, Street

        call_command("migrate", verbosity=0)
        street = Street.objects.create(name="测试街道")
        grid = Grid.objects.create(community=Community.objects.create(street=street, name="幸福社区"), name="第一网格")
        building = Building.objects.create(grid=grid, name="1栋", floors=6)
        household = Household.objects.create(
            building=building, entrance=Entrance.objects.create(building=building, number=1), room="501", floor=5
        )
        worker = User.objects.create_user("worker", password="x" * 12)
        membership = Membership(user=worker, role="grid_worker")
        membership.bind(grid)
        membership.save()
        do_create_resident(worker, household, {"name": "张三", "phone": "17000425678"})
        headers = {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(worker)}"}
        client = Client()
        statuses: dict[int, int] = {}
        started = perf_counter()
        for guess in range(args.searches):
            body = {"q": f"170{guess:04d}5678"}
            response = client.post("/api/v1/residents/search", body, content_type="application/json", **headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        seconds = perf_counter() - started
        audited = AuditEvent.objects.filter(action="search").count()
        limit = settings.EXACT_SEARCH_LIMIT
        print(f"searches sent: {args.searches} in {seconds:.2f} s; limit {limit} per user per "
              f"{settings.EXACT_SEARCH_WINDOW_SECONDS // 60} min")  # fmt: skip
        print(f"answered 200: {statuses.get(200, 0)}; refused 429: {statuses.get(429, 0)}; other: "
              f"{ {k: v for k, v in statuses.items() if k not in (200, 429)} }")  # fmt: skip
        print(f"audit events 'search': {audited}")
        return 0 if statuses.get(200, 0) <= limit and audited == args.searches else 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
