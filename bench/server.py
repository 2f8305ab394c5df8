"""Shared by the benchmarks and the load and fault tests: run the app under gunicorn on a free
loopback port, sign in as users, and fire requests from threads, measuring each one."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, workers: int = 2, upload_folder: str | None = None, extra_env: dict | None = None):
    """Serve the app (wsgi:app) with gunicorn; yields the base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret", "LOGIN_MAX_FAILURES": "1000"}
    if upload_folder:
        env["UPLOAD_FOLDER"] = upload_folder
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


class Client:
    """A keep-alive HTTP client for one simulated user (cookies kept, optional bearer token)."""

    def __init__(self, base: str):
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None
        self.csrf: str | None = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, bytes, dict]:
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()  # a closed keep-alive connection or a restarting server: reconnect once
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, dict(response.headers)

    def close(self) -> None:
        self.conn.close()

    def token_login(self, email: str, password: str) -> None:
        status, data, _ = self.request("POST", "/api/v1/tokens", {"email": email, "password": password})
        if status != 201:
            raise RuntimeError(f"token login failed for {email}: {status} {data[:200]!r}")
        self.token = json.loads(data)["token"]

    def web_login(self, email: str, password: str) -> None:
        _, page, _ = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            rb'name="csrf-token" content="([^"]+)"', page
        )
        form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token.group(1).decode()})
        status, data, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"web login failed for {email}: {status}")
        _, page, _ = self.request("GET", "/")
        self.csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p95_ms(self) -> float:
        if len(self.latencies) < 2:
            return self.median_ms
        return statistics.quantiles(self.latencies, n=20)[18] * 1000

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def hammer(name: str, clients: list[Client], make_request, requests_per_client: int) -> Result:
    """Each client (in its own thread) sends `requests_per_client` requests; make_request(client, i)
    returns (method, path, body, headers)."""
    result = Result(name)
    lock = threading.Lock()

    def run(client: Client):
        for i in range(requests_per_client):
            method, path, body, headers = make_request(client, i)
            t0 = time.perf_counter()
            status, _, _ = client.request(method, path, body, headers)
            elapsed = time.perf_counter() - t0
            with lock:
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - start
    return result
