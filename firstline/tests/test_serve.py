"""``firstline serve`` for real, on a fresh data directory: private files, its own control socket, an access log
that cannot be forged, and a job consumer that comes back when it dies while the web server keeps serving."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from firstline.cli import web_command

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> dict[int, str]:
    """pid → command line of the direct children of ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


def consumer_pid(serve_pid: int) -> int | None:
    pids = [pid for pid, line in children_of(serve_pid).items() if "run_huey" in line]
    return pids[0] if pids else None


def wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("serve")
    data = base / "data"  # not there yet: the first command makes it
    env = {**os.environ, "FIRSTLINE_DATA_DIR": str(data), "FIRSTLINE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    env["FIRSTLINE_JOB_WORKERS"] = "1"
    # Plain static files: the compressed manifest takes collectstatic ~40 s, and is not what is tested here.
    env["FIRSTLINE_DEBUG"] = "1"
    command = [sys.executable, "-m", "firstline.cli"]
    subprocess.run([*command, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    log = (base / "serve.log").open("wb")
    server = subprocess.Popen(
        [*command, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        assert wait_for(up, 40), (base / "serve.log").read_text()
        yield {"url": url, "port": port, "data": data, "pid": server.pid, "log": base / "serve.log", "env": env}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_the_data_directory_and_the_databases_are_private(served):
    data = served["data"]
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("firstline.sqlite3", "jobs.sqlite3"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    for extra in data.glob("*.sqlite3-*"):  # WAL and shared-memory files
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra.name
    for secret in (data / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret.name


def test_the_control_socket_is_in_the_data_directory(served, tmp_path):
    socket_path = served["data"] / "run" / "gunicorn.ctl"
    assert wait_for(lambda: socket_path.is_socket(), 5)
    assert stat.S_IMODE((served["data"] / "run").stat().st_mode) == 0o700
    one = web_command("127.0.0.1:1", 1, 1, tmp_path / "one")
    two = web_command("127.0.0.1:2", 1, 1, tmp_path / "two")
    assert one[one.index("--control-socket") + 1] == str(tmp_path / "one" / "run" / "gunicorn.ctl")
    assert two[two.index("--control-socket") + 1] == str(tmp_path / "two" / "run" / "gunicorn.ctl")


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_access_log_escapes_control_characters(served):
    """Decoded paths (%0a, %0d, %1b) reach the access log escaped; raw control bytes in the path or the method
    are refused by gunicorn as a bad request line, logged once with the bytes escaped."""
    port, log = served["port"], served["log"]
    marker = f"m{time.monotonic_ns()}"
    requests = [
        f"GET /{marker}a%0a1.2.3.4%20%22GET%20/forged%22%20200 HTTP/1.1\r\n".encode(),
        f"GET /{marker}b%0d%0a%1b[2J%00%7f HTTP/1.1\r\n".encode(),
        f"GET /{marker}c\x1b[31m\x7f HTTP/1.1\r\n".encode(),
        f"G\x1bT\x0b /{marker}d HTTP/1.1\r\n".encode(),
    ]
    for request in requests:
        _raw(port, request + b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")

    def logged(suffix: str) -> list[str]:
        return [line for line in log.read_text(errors="replace").splitlines() if marker + suffix in line]

    def bad_method() -> list[str]:
        return [
            line for line in log.read_text(errors="replace").splitlines() if "Invalid HTTP method: 'G\\x1bT" in line
        ]

    assert wait_for(lambda: all(logged(s) for s in "abc") and bad_method(), 5), log.read_text(errors="replace")[-3000:]
    access = [line for s in "ab" for line in logged(s) if '" 404 ' in line or '" 400 ' in line]  # b: a NUL, 400
    assert len(access) == 2, log.read_text(errors="replace")[-3000:]
    assert '"GET /' + marker + 'a\\x0a1.2.3.4 \\"GET /forged\\" 200" 404' in access[0]
    assert "\\x0d\\x0a\\x1b[2J\\x00\\x7f" in access[1]
    assert len(logged("c")) == 1 and len(bad_method()) == 1
    assert not [line for line in log.read_text(errors="replace").splitlines() if line.startswith("1.2.3.4")]
    for line in [*access, *logged("c"), *bad_method()]:
        assert not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in line), line


def test_a_killed_job_consumer_is_restarted_and_the_web_keeps_serving(served):
    serve_pid = served["pid"]
    first = wait_for(lambda: consumer_pid(serve_pid), 10)
    assert first
    os.kill(first, signal.SIGKILL)
    with urllib.request.urlopen(f"{served['url']}/accounts/login/", timeout=5) as response:
        assert response.status == 200
    second = wait_for(lambda: (pid := consumer_pid(serve_pid)) and pid != first and pid, 8)
    assert second and second != first
    with urllib.request.urlopen(f"{served['url']}/accounts/login/", timeout=5) as response:
        assert response.status == 200
    assert "the job consumer ended" in served["log"].read_text(errors="replace")
    # A job enqueued now is run by the new consumer: an audit anchor is written.
    enqueue = (
        "from firstline.audit.log import record; record('login'); "
        "from firstline.audit.tasks import anchor_audit_chain; anchor_audit_chain()"
    )
    subprocess.run(
        [sys.executable, "-m", "firstline.cli", "shell", "-c", enqueue],
        env=served["env"], cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    anchors = served["data"] / "audit" / "anchors.jsonl"
    assert wait_for(anchors.exists, 12)
    assert json.loads(anchors.read_text().splitlines()[-1])["count"] >= 1
