"""Time the gate app's offline check: ``.venv/bin/python bench/gate_verify.py [--passes 20000] [--tokens 1000]``.

Makes a throwaway data directory with its own SQLite database, a community with
``--passes`` valid passes (bulk-created, random serials) and a guard on shift at its
gate, serves FirstLine on a local port, and opens the gate app in Debian's Chromium
(Playwright) as that guard. Once the app has synced, the browser goes offline and
the page checks ``--tokens`` different signed tokens the way a scan does
(``gateApp.verifyToken``: parse, Ed25519 signature with WebCrypto, community, gate,
window, list age, revoked, suspended), timed with ``performance.now()``; the
reference is the bare ``crypto.subtle.verify`` of the same bytes with the same key,
timed in the same page in the same round. Rounds alternate subject and reference;
the median round is shown. Also prints the sync's size raw and gzip-compressed.
Exit status 1 when a check takes more than ``--target`` ms (default 5) or the sync
is 100 KB or more compressed.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
from datetime import datetime, timedelta
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import setup_django

CHROMIUM = "/usr/bin/chromium"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20000, help="valid passes of the community (default 20000)")
    parser.add_argument("--tokens", type=int, default=1000, help="different tokens checked per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the median is shown (default 5)")
    parser.add_argument("--target", type=float, default=5.0, help="ms per check at most (default 5)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    return parser.parse_args(argv)


def make_community(passes: int, tokens_wanted: int, seed: int):
    """A community with ``passes`` valid passes, a gate and a guard on shift; the tokens of some of the passes."""
    from django.utils import timezone

    from firstline.accounts.models import Membership, User
    from firstline.gates import tokens
    from firstline.gates.actions import signing_key
    from firstline.gates.models import Pass, Shift
    from firstline.places.models import Community, Gate, Street

    street = Street.objects.create(name="基准街道")
    community = Community.objects.create(street=street, name="基准社区", kind="urban")
    gate = Gate.objects.create(community=community, name="南门")
    guard = User.objects.create_user(username="bench_guard", password="bench guard password", full_name="值守员")
    membership = Membership(user=guard, role="gate_guard")
    membership.bind(gate)
    membership.save()
    now = timezone.now()
    Shift.objects.create(
        gate=gate,
        street=street,
        community=community,
        guard=guard,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=8),
    )
    key = signing_key()
    private = tokens.unseal_private_key(key.private_key_sealed)
    rng = random.Random(seed)
    rows, codes, serials = [], set(), set()
    while len(rows) < passes:
        serial = rng.getrandbits(63)
        code = tokens.short_code(serial)
        if code in codes or serial in serials:
            continue
        codes.add(code)
        serials.add(serial)
        issued = now - timedelta(minutes=rng.randrange(14 * 24 * 60))
        kind = rng.choices(["outing", "worker", "vehicle"], weights=[90, 8, 2])[0]
        rows.append(
            Pass(
                serial=serial,
                short_code=code,
                kind=kind,
                street=street,
                community=community,
                rule=1 if kind == "outing" else 0,
                valid_from=issued,
                valid_until=issued + timedelta(days=14 if kind == "outing" else 30),
                key_id=key.key_id,
            )
        )
    Pass.objects.bulk_create(rows, batch_size=2000)
    signed = [
        tokens.encode(
            tokens.Claims(
                key_id=item.key_id,
                serial=item.serial,
                community=community.id,
                gate=0,
                valid_from=int(item.valid_from.timestamp()),
                valid_until=int(item.valid_until.timestamp()),
                kind=item.kind,
                rule=item.rule,
            ),
            private,
        )
        for item in rng.sample(rows, tokens_wanted)
    ]
    return gate, guard, signed


def serve():
    """FirstLine on a free local port, in a thread (the whole middleware stack, static files by whitenoise)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, get_internal_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(get_internal_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


TIMED = """async ([tokens, rounds]) => {
  await window.gateApp.ready;
  const app = window.gateApp;
  const state = app.state();
  const key = state.keys.values().next().value;
  const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const raw = tokens.map((token) => {
    const text = token.slice(3); const out = new Uint8Array(98); let bits = 0, value = 0, i = 0;
    for (const c of text) { value = (value << 5) | B32.indexOf(c); bits += 5;
      if (bits >= 8) { out[i++] = (value >>> (bits - 8)) & 255; bits -= 8; } }
    return [out.slice(0, 34), out.slice(34)];
  });
  const subject = [], reference = [];
  let refused = 0;
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    for (const token of tokens) { try { await app.verifyToken(token); } catch (e) { refused++; } }
    subject.push((performance.now() - started) / tokens.length);
    started = performance.now();
    for (const [payload, signature] of raw) {
      await crypto.subtle.verify({ name: "Ed25519" }, key, signature, payload);
    }
    reference.push((performance.now() - started) / tokens.length);
  }
  const shown = [], queued = [];
  for (const token of tokens.slice(0, 50)) {
    const started = performance.now();
    const result = await app.check("token", token);
    queued.push(performance.now() - started);
    shown.push(result.shownInMs);
  }
  const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { subject, reference, refused, shown: median(shown), queued: median(queued), codes: state.codes.size };
}"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="firstline-bench-gate-")
    setup_django(data_dir)

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from playwright.sync_api import sync_playwright

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    server = None
    try:
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        started = perf_counter()
        gate, guard, signed = make_community(args.passes, args.tokens, args.seed)
        built = perf_counter() - started

        client = Client()
        client.force_login(guard)
        url = f"/api/v1/gates/{gate.code}/sync"
        raw = client.get(url).content  # the first publishes the community's list
        sync_times = []
        for _ in range(5):
            started = perf_counter()
            client.get(url)
            sync_times.append((perf_counter() - started) * 1000)
        sync_ms = sorted(sync_times)[2]
        compressed = client.get(url, HTTP_ACCEPT_ENCODING="gzip").content
        assert gzip.decompress(compressed) == raw or len(gzip.decompress(compressed)) == len(raw)

        server, base = serve()
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "url": base,
                    }
                ]
            )
            page = context.new_page()
            page.goto(f"{base}/gates/{gate.code}/app/")
            page.wait_for_selector('#sync-state:not([data-synced="0"])', timeout=60_000)
            context.set_offline(True)
            result = page.evaluate(TIMED, [signed, args.rounds])
            version = browser.version
            browser.close()

        order = sorted(range(args.rounds), key=lambda i: result["subject"][i])
        middle = order[len(order) // 2]
        per_check, per_verify = result["subject"][middle], result["reference"][middle]
        print(f"# FirstLine gate app check, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print()
        print(
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
            f"Chromium {version} (Playwright, headless)"
        )
        print(
            f"- {args.passes} valid passes built in {built:.1f} s; {args.tokens} different tokens per round, "
            f"{args.rounds} rounds (median shown), {result['refused']} refused; "
            f"{result['codes']} short codes in the app"
        )
        print()
        print("| what | value |")
        print("|---|--:|")
        print(f"| **offline check of a token** (`gateApp.verifyToken`), ms | {per_check:.3f} |")
        print(f"| reference: bare `crypto.subtle.verify` of the same bytes, ms | {per_verify:.3f} |")
        print(f"| ratio | {per_check / per_verify:.2f} |")
        print(f"| rounds (check ms) | {' / '.join(f'{v:.3f}' for v in result['subject'])} |")
        print(f"| a scan (`gateApp.check`, 50 tokens, median): verdict on screen, ms | {result['shown']:.1f} |")
        print(f"| … and the scan queued in IndexedDB, ms | {result['queued']:.1f} |")
        print(f"| sync response, raw | {len(raw):,} bytes |")
        print(f"| sync response, gzip (as sent) | {len(compressed):,} bytes |")
        print(f"| sync view (server, in-process, median of 5), ms | {sync_ms:.0f} |")
        ok = per_check <= args.target and len(compressed) < 100_000 and not result["refused"]
        print()
        print(f"target: ≤ {args.target} ms per check, sync < 100,000 bytes compressed: {'pass' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.shutdown()
        if args.keep:
            print(f"\ndata directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
