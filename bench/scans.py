"""Gate scans under load: ``.venv/bin/python bench/scans.py [--passes 3000] [--seconds 10] [--clients 8]``.

Builds a community with a few thousand issued outing passes in a throwaway data
directory (SQLite), starts gunicorn as ``firstline serve`` does (2 workers, gthread)
on ``bench/scans_wsgi.py`` — the project plus one bare view that parses the body
and touches no database — and drives both endpoints with the same closed loop:
``--clients`` threads, each on its own keep-alive connection, each sending one
request after the other for ``--seconds`` after a warm-up. A scan request carries
one scan of a valid pass with a fresh client id (each pass goes out, then in, ...),
authenticated with an on-duty guard's API token. Prints one Markdown table: req/s
of both, their ratio (target ≥ 25 %), p50/p99 of the scans (target p99 ≤ 50 ms),
and checks that the scans stored equal the 2xx answers (none lost). Exit status 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3000, help="outing passes issued (default 3000)")
    parser.add_argument("--seconds", type=float, default=10, help="timed seconds per endpoint (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="untimed seconds per endpoint (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    return parser.parse_args(argv)


def setup_django(data_dir: str) -> None:
    os.environ["FIRSTLINE_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    os.environ.pop("DATABASE_URL", None)
    os.environ["ALLOWED_HOSTS"] = HOST
    os.environ.setdefault("FIRSTLINE_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def build(passes: int) -> tuple[str, str, list[str]]:
    """A street, one community with a gate, ``passes`` residents each with an outing pass; a guard on shift.

    Returns the gate's code, the guard's API token and the passes' tokens.
    """
    from django.db import transaction
    from django.utils import timezone

    from firstline.accounts.actions import do_issue_token
    from firstline.accounts.models import Membership, User
    from firstline.gates.actions import do_issue_pass
    from firstline.gates.models import Shift
    from firstline.people.actions import do_create_resident
    from firstline.places.models import Building, Community, Entrance, Gate, Grid, Household, Street

    def member(username: str, role: str, place) -> User:
        user = User.objects.create_user(username=username, password="bench-" + uuid.uuid4().hex)
        membership = Membership(user=user, role=role)
        membership.bind(place)
        membership.save()
        return user

    with transaction.atomic():
        street = Street.objects.create(name="测试街道")
        community = Community.objects.create(street=street, name="幸福社区", kind="urban")
        gate = Gate.objects.create(community=community, name="南门")
        admin = member("bench_admin", "community_admin", community)
        guard = member("bench_guard", "gate_guard", gate)
        now = timezone.now()
        Shift.objects.create(
            gate=gate,
            street=street,
            community=community,
            guard=guard,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=12),
        )
        tokens = []
        grid = None
        for number in range(passes):
            if number % 500 == 0:
                grid = Grid.objects.create(community=community, name=f"第{number // 500 + 1}网格")
            if number % 60 == 0:
                building = Building.objects.create(grid=grid, name=f"{number // 60 + 1}栋", floors=6)
                entrance = Entrance.objects.create(building=building, number=1)
            household = Household.objects.create(
                building=building, entrance=entrance, room=f"{number % 60 + 101}", floor=1
            )
            resident = do_create_resident(admin, household, {"name": f"居民{number}"})
            tokens.append(do_issue_pass(admin, resident)[1])
    return gate.code, do_issue_token(guard), tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, data_dir: str) -> subprocess.Popen:
    env = {**os.environ, "FIRSTLINE_DATA_DIR": data_dir, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    command = [
        sys.executable, "-m", "gunicorn", "scans_wsgi:application",
        "--bind", f"{HOST}:{port}", "--workers", "2", "--threads", "4", "--worker-class", "gthread",
        "--chdir", str(ROOT), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


class Load:
    """A closed loop: each client sends its next request when the last one is answered."""

    def __init__(self, port: int, path: str, headers: dict[str, str], bodies) -> None:
        self.port, self.path, self.headers, self.bodies = port, path, headers, bodies
        self.lock = threading.Lock()

    def run(self, clients: int, seconds: float) -> tuple[list[float], dict[int, int]]:
        times: list[float] = []
        statuses: dict[int, int] = {}
        stop = time.monotonic() + seconds

        def client(index: int) -> None:
            connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
            mine: list[float] = []
            seen: dict[int, int] = {}
            while time.monotonic() < stop:
                body = self.bodies(index)
                started = time.perf_counter()
                connection.request("POST", self.path, body=body, headers=self.headers)
                response = connection.getresponse()
                response.read()
                mine.append((time.perf_counter() - started) * 1000)
                seen[response.status] = seen.get(response.status, 0) + 1
            connection.close()
            with self.lock:
                times.extend(mine)
                for status, count in seen.items():
                    statuses[status] = statuses.get(status, 0) + count

        threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return times, statuses


def scan_bodies(gate: str, tokens: list[str], clients: int):
    """Each client walks its own share of the passes: out, then in at the next round, and so on."""
    shares = [tokens[index::clients] for index in range(clients)]
    sent = [0] * clients

    def body(index: int) -> str:
        share = shares[index]
        turn = sent[index]
        sent[index] += 1
        scan = {
            "client_id": str(uuid.uuid4()),
            "token": share[turn % len(share)],
            "gate": gate,
            "direction": "out" if (turn // len(share)) % 2 == 0 else "in",
            "scanned_at": datetime.now().astimezone().isoformat(),
        }
        return json.dumps([scan])

    return body


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="firstline-bench-scans-")
    setup_django(data_dir)
    from django.core.management import call_command
    from django.db import connection

    server = None
    try:
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        started = time.perf_counter()
        gate, api_token, tokens = build(args.passes)
        build_seconds = time.perf_counter() - started
        connection.close()

        port = free_port()
        server = start_gunicorn(port, data_dir)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_token}"}
        bodies = scan_bodies(gate, tokens, args.clients)
        bare = Load(port, "/bench/bare", headers, bodies)
        scans = Load(port, "/api/v1/scans", headers, bodies)

        sent_ok = 0
        for load in (bare, scans):  # warm-up: imports, connections, caches
            _times, statuses = load.run(args.clients, args.warmup)
            if load is scans:
                sent_ok += sum(count for status, count in statuses.items() if 200 <= status < 300)
        bare_times, bare_statuses = bare.run(args.clients, args.seconds)
        scan_times, scan_statuses = scans.run(args.clients, args.seconds)
        sent_ok += sum(count for status, count in scan_statuses.items() if 200 <= status < 300)

        from firstline.gates.models import Scan

        stored = Scan.objects.count()
        passed = Scan.objects.exclude(verdict=Scan.Verdict.REFUSED).count()
        bare_rate, scan_rate = len(bare_times) / args.seconds, len(scan_times) / args.seconds
        ratio = scan_rate / bare_rate
        p99 = percentile(scan_times, 0.99)
        ok = ratio >= 0.25 and p99 <= 50 and stored == sent_ok and set(scan_statuses) == {200}

        print(f"# FirstLine gate scans benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print()
        print(
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
        )
        print(f"- {args.passes} outing passes issued in {build_seconds:.1f} s; gunicorn 2 workers × 4 threads")
        print(
            f"- {args.clients} keep-alive clients, closed loop, {args.warmup:g} s warm-up then {args.seconds:g} s "
            "per endpoint; one scan per request"
        )
        print()
        print("| endpoint | requests | req/s | p50 ms | p99 ms | statuses |")
        print("|---|--:|--:|--:|--:|---|")
        for name, times, statuses in (
            ("bare view (reference)", bare_times, bare_statuses),
            ("POST /api/v1/scans", scan_times, scan_statuses),
        ):
            print(
                f"| {name} | {len(times)} | {len(times) / args.seconds:.0f} | {statistics.median(times):.1f} "
                f"| {percentile(times, 0.99):.1f} | {', '.join(f'{s}×{c}' for s, c in sorted(statuses.items()))} |"
            )
        print()
        print(f"- ratio scans / bare: **{ratio:.0%}** (target ≥ 25 %); scans p99 **{p99:.1f} ms** (target ≤ 50 ms)")
        print(
            f"- scans stored {stored} (not refused: {passed}), 2xx answers {sent_ok}: "
            + ("none lost" if stored == sent_ok else "MISMATCH")
        )
        print(f"- result: {'pass' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.keep:
            print(f"\n(data kept in {data_dir})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
