"""Load test of the local runtime with Locust: sign-in, upload URL + upload, progress, gallery.

    .venv/bin/python benchmarks/bench_load.py [--users 4] [--spawn-rate 1] [--duration 60]
        [--styles 1] [--drain 300] [--poll 0.5]

Starts the runtime as `make up` does (`python -m local`, 127.0.0.1, a free port) in a process of
its own: Locust's gevent patches every socket and thread of the process it runs in, and the runtime
must keep its own. Two whole flows at once first warm every function's two workers (cold starts
are not measured). Then Locust runs headless in this process, bounded: `--users` users (spawned
at `--spawn-rate` per second) for `--duration` seconds. Each user signs up and agrees once, then
loops with 0.5–2 s of think time: signs in (`/local/auth/signin`), asks for an upload URL
(`POST /apis/images/upload`, `--styles` styles), posts a real face photo (the portraits
`scripts/fetch_photos.py` put in .cache/photos, in turn) to the presigned form on the local S3
front, polls its progress every `--poll` s until it is COMPLETED or FAILED, reads the gallery.

When the time is up the users stop where they are; every upload the S3 front accepted is then
polled until it is terminal (`--drain` s at most) and each user's gallery is checked: one result
per completed style, none twice. Prints, per route, the requests, failures and p50/p95/p99/max
latency (ms, exact, from every request); the upload → terminal time; the errors (must be 0); the
accepted uploads and how they ended (lost must be 0); the dead-letter queues left non-empty; the
load average (the figures mean little on a machine busy with other work). Exit status 1 on an
error, a lost upload, or a gallery result missing or listed twice.

The defaults fit a 2-core laptop; the local auth routes allow 100 calls per 10 s from one address
(local/auth.py), which a few dozen users stay under at this think time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "lambda/shared")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

TERMINAL = ("COMPLETED", "FAILED")
# The users' password, new each run: the pool asks for 12+ characters, upper, lower, digit, symbol.
PASSWORD = f"Aa1!{secrets.token_urlsafe(12)}"
POLL_GIVE_UP_S = 300  # one user stops polling a process after this (the drain goes on)


@dataclass
class Accepted:
    """An upload the S3 front took: it must end COMPLETED or FAILED."""

    email: str
    sub: str
    process_id: str
    styles: list[str]
    accepted_at: float
    status: str = "CREATED"
    ended_at: float | None = None
    state: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank on sorted values."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def face_photos() -> list[tuple[str, bytes]]:
    from local.photos import astronaut, labelled_photos

    photos = [(p.name, p.read_bytes()) for _, p in labelled_photos()]
    if photos:
        return photos
    from local.client import jpeg

    print("note: no portraits in .cache/photos (scripts/fetch_photos.py): using the astronaut")
    return [("astronaut.jpg", jpeg(astronaut()))]


def start_runtime(log_path: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """`python -m local` on a free port; returns the process and the URLs it printed."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        bufsize=1,
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 600
    for line in proc.stdout:
        log.write(line)
        if m := re.match(r"\s+(web page|API|local AWS)\s+(http\S+)", line):
            urls[m[1]] = m[2].rstrip("/")
        if len(urls) == 3 or time.monotonic() > deadline:  # printed after "ready in"
            break
    if proc.poll() is not None or len(urls) < 3:
        stop_runtime(proc)
        raise SystemExit(f"the runtime did not start: see {log_path}")

    def drain() -> None:  # the functions' logs go to the runtime's stdout: keep it flowing
        for rest in proc.stdout:
            log.write(rest)

    import threading  # gevent's, once locust is imported: a greenlet reading the pipe

    threading.Thread(target=drain, daemon=True).start()
    return proc, urls


def stop_runtime(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def dead_letters(aws_url: str) -> dict[str, int]:
    import boto3

    sqs = boto3.session.Session(
        region_name="us-west-2", aws_access_key_id="local", aws_secret_access_key="local"
    ).client("sqs", endpoint_url=aws_url)
    left = {}
    for url in sqs.list_queues(MaxResults=1000).get("QueueUrls", []):
        name = url.rsplit("/", 1)[1]
        if not name.lower().startswith("dlq") and "deadletter" not in name.lower():
            continue
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if count := sum(int(v) for v in attrs.values()):
            left[name] = count
    return left


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--spawn-rate", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--styles", type=int, default=1, help="styles per upload (1–3)")
    parser.add_argument("--drain", type=float, default=300, help="seconds to wait for the rest")
    parser.add_argument("--poll", type=float, default=0.5, help="progress polling interval")
    args = parser.parse_args()

    # Locust patches sockets, threads and subprocess (gevent) on import: before anything uses them.
    import locust  # noqa: F401

    log_path = Path(tempfile.gettempdir()) / "bench_load-runtime.log"
    started = time.monotonic()
    proc, urls = start_runtime(log_path)
    try:
        return run(urls, started, log_path, args)
    finally:
        stop_runtime(proc)


def warm_up(urls: dict[str, str], photo: bytes) -> float:
    """A whole flow before the measured run: a worker's first invocation (a cold start: spawn,
    imports, face models) is not what the load test measures."""
    from local.client import User

    started = time.monotonic()
    user = User.sign_up_at(urls["web page"], urls["API"])
    user.agree()
    done = user.wait(user.upload(photo, [user.styles()[0]["resourceId"]]), timeout=600)
    user.results()
    if done["status"] != "COMPLETED":
        raise SystemExit(f"warm-up upload did not complete: {done}")
    return time.monotonic() - started


def run(urls, started, log_path, args) -> int:
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    ready = time.monotonic() - started
    print(f"runtime ready in {ready:.0f}s at {urls['web page']} (its log: {log_path})")
    base, api = urls["web page"], urls["API"]
    stage = api.removeprefix(base)  # "/prod"
    portraits = face_photos()
    # Two at once: each function runs 2 workers, and each worker has its own cold start.
    flows = [gevent.spawn(warm_up, urls, portraits[i][1]) for i in range(2)]
    gevent.joinall(flows, raise_error=True)
    print(f"warm-up, 2 whole flows at once (cold starts): {max(f.value for f in flows):.1f}s")
    photos = itertools.cycle(portraits)
    accepted: list[Accepted] = []
    accounts: dict[str, str] = {}  # email → sub
    latencies: dict[str, list[float]] = {}

    def on_request(request_type, name, response_time, exception=None, **_):
        latencies.setdefault(f"{request_type} {name}", []).append(response_time)

    class StyleUser(HttpUser):
        host = base
        wait_time = between(0.5, 2.0)

        def on_start(self) -> None:
            self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
            r = self.client.post(
                "/local/auth/signup", json={"email": self.email, "password": PASSWORD}
            )
            r.raise_for_status()
            self._token(r.json())
            accounts[self.email] = self.sub
            version = self.api("GET", "/agree").json()["termsVersion"]
            self.api("POST", "/agree", {"termsVersion": version}).raise_for_status()
            self.styles = [s["resourceId"] for s in self.api("GET", "/apis/styles").json()["items"]]

        def _token(self, tokens: dict[str, Any]) -> None:
            import base64

            self.token = tokens["idToken"]
            payload = self.token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            self.sub = claims["sub"]

        def api(self, method: str, path: str, body: Any = None, name: str | None = None):
            return self.client.request(
                method,
                f"{stage}{path}",
                json=body,
                headers={"Authorization": self.token},
                name=f"{stage}{name or path}",
            )

        @task
        def style_a_selfie(self) -> None:
            r = self.client.post(
                "/local/auth/signin", json={"email": self.email, "password": PASSWORD}
            )
            if not r.ok:
                return
            self._token(r.json())
            chosen = self.styles[: args.styles]
            r = self.api(
                "POST", "/apis/images/upload", {"contentType": "image/jpeg", "resourceIds": chosen}
            )
            if r.status_code != 201:
                return
            ticket = r.json()
            name, data = next(photos)
            form = self.client.post(
                ticket["upload"]["url"],
                data=ticket["upload"]["fields"],
                files={"file": (name, data, "image/jpeg")},
                name="(S3 front) presigned upload form",
            )
            if not form.ok:
                return
            upload = Accepted(self.email, self.sub, ticket["processId"], chosen, time.monotonic())
            accepted.append(upload)
            path = f"/apis/images/{self.sub}/processes/{upload.process_id}"
            give_up = time.monotonic() + POLL_GIVE_UP_S
            while time.monotonic() < give_up:
                r = self.api("GET", path, name="/apis/images/{userId}/processes/{processId}")
                if r.ok and r.json()["status"] in TERMINAL:
                    upload.status, upload.ended_at = r.json()["status"], time.monotonic()
                    upload.state = r.json()
                    break
                gevent.sleep(args.poll)
            self.api("GET", f"/apis/images/{self.sub}?limit=20", name="/apis/images/{userId}")

    env = Environment(user_classes=[StyleUser], host=base)
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"load: {args.users} users (+{args.spawn_rate:g}/s) for {args.duration:.0f}s, "
        f"{args.styles} style(s) per upload; {os.cpu_count()} cores, load average {load}"
    )
    runner.start(args.users, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.duration, runner.quit)
    runner.greenlet.join()
    return report(env, latencies, accepted, accounts, urls, args)


def report(env, latencies, accepted, accounts, urls, args) -> int:
    import requests

    base, api = urls["web page"], urls["API"]
    stats = env.stats
    print(
        f"\n{'route':62s} {'reqs':>6s} {'fail':>5s} {'p50':>7s} {'p95':>7s} {'p99':>7s} {'max':>7s}"
    )
    for key in sorted(latencies):
        values = sorted(latencies[key])
        method, name = key.split(" ", 1)
        failures = stats.get(name, method).num_failures
        print(
            f"{key:62s} {len(values):6d} {failures:5d} {percentile(values, 0.5):7.0f}"
            f" {percentile(values, 0.95):7.0f} {percentile(values, 0.99):7.0f} {values[-1]:7.0f}"
        )
    total = stats.total
    print(
        f"{'all (ms)':62s} {total.num_requests:6d} {total.num_failures:5d}   "
        f"{total.total_rps:.1f} req/s over the run"
    )
    for error in stats.errors.values():
        print(f"  error: {error.method} {error.name}: {error.error} ×{error.occurrences}")
    crashes = sum(e["count"] for e in env.runner.exceptions.values())
    for e in env.runner.exceptions.values():
        print(f"  exception in a user ×{e['count']}: {e['msg']}")

    # The drain: every accepted upload must reach a terminal state.
    deadline = time.monotonic() + args.drain
    tokens: dict[str, str] = {}
    session = requests.Session()
    pending = [a for a in accepted if a.status not in TERMINAL]
    print(f"\ndrain: {len(pending)} of {len(accepted)} accepted uploads still running at the stop")
    while pending and time.monotonic() < deadline:
        for upload in list(pending):
            if upload.email not in tokens:
                r = session.post(
                    f"{base}/local/auth/signin",
                    json={"email": upload.email, "password": PASSWORD},
                    timeout=30,
                )
                tokens[upload.email] = r.json()["idToken"]
            r = session.get(
                f"{api}/apis/images/{upload.sub}/processes/{upload.process_id}",
                headers={"Authorization": tokens[upload.email]},
                timeout=30,
            )
            if r.ok and r.json()["status"] in TERMINAL:
                upload.status, upload.ended_at, upload.state = (
                    r.json()["status"],
                    time.monotonic(),
                    r.json(),
                )
                pending.remove(upload)
        time.sleep(1)

    # The galleries: one result per completed style, none twice.
    duplicated = missing = 0
    for email, sub in accounts.items():
        if email not in tokens:
            r = session.post(
                f"{base}/local/auth/signin",
                json={"email": email, "password": PASSWORD},
                timeout=30,
            )
            tokens[email] = r.json()["idToken"]
        items, token = [], None
        while True:
            query = "?limit=50" + (f"&nextToken={token}" if token else "")
            page = session.get(
                f"{api}/apis/images/{sub}{query}",
                headers={"Authorization": tokens[email]},
                timeout=30,
            ).json()
            items += page["items"]
            if not (token := page.get("nextToken")):
                break
        ids = [i["resultId"] for i in items]
        duplicated += len(ids) - len(set(ids))
        expected = {
            (a.process_id, s)
            for a in accepted
            if a.email == email and a.status in TERMINAL
            for s, v in a.state.get("styles", {}).items()
            if v["status"] == "COMPLETED"
        }
        missing += len(expected - {(i["processId"], i["resourceId"]) for i in items})

    ended = [a for a in accepted if a.status in TERMINAL]
    lost = len(accepted) - len(ended)
    completed = sum(a.status == "COMPLETED" for a in accepted)
    reasons: dict[str, int] = {}
    for a in ended:
        if a.status == "FAILED":
            code = (a.state.get("error") or {}).get("code", "no reason")
            reasons[code] = reasons.get(code, 0) + 1
    pipeline = sorted((a.ended_at - a.accepted_at) * 1000 for a in ended if a.ended_at)
    if pipeline:
        print(
            f"upload accepted → terminal (ms): p50 {percentile(pipeline, 0.5):.0f}, "
            f"p95 {percentile(pipeline, 0.95):.0f}, p99 {percentile(pipeline, 0.99):.0f}, "
            f"max {pipeline[-1]:.0f}"
        )
    print(
        f"accepted uploads: {len(accepted)}; COMPLETED {completed}, FAILED {len(ended) - completed}"
        f"{f' {reasons}' if reasons else ''}; lost (not terminal after the drain): {lost}"
    )
    print(f"gallery: {duplicated} result(s) listed twice, {missing} completed style(s) missing")
    left = dead_letters(urls["local AWS"])
    print(f"dead-letter queues not empty: {left or 'none'}")
    errors = stats.total.num_failures + crashes
    print(f"errors: {errors} (failed requests {stats.total.num_failures}, exceptions {crashes})")
    print("load average at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    ok = errors == 0 and lost == 0 and duplicated == 0 and missing == 0
    print("OK" if ok else "NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
