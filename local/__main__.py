"""`make up`: the whole backend on http://127.0.0.1:$PORT (default 8000), offline, until Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from local.runtime import LocalBackend
from local.server import MOBILE, PortBusy


def main() -> int:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    port = int(os.environ.get("PORT", "8000"))
    backend = LocalBackend(port=port, host=os.environ.get("HOST", "127.0.0.1"))
    started = time.monotonic()
    print(f"Style Backend (local): starting on port {port}…")
    try:
        backend.start()
    except PortBusy as err:
        print(f"error: {err.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        backend.stop()  # what had started would keep the process alive
        return 130
    # From here on Ctrl-C, whenever it comes (even while the banner prints), stops everything.
    try:
        announce(backend, started)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…")
        backend.stop()
        print("stopped.")
    return 0


def announce(backend: LocalBackend, started: float) -> None:
    """Where everything is, once it all runs."""
    cfg = backend.client_config()
    synth = "cached synth (.local-state/)" if backend.synth_cached else "synthesized"
    print(f"ready in {time.monotonic() - started:.1f}s ({synth})")
    print(f"  web page     {backend.base_url}/")
    built = "" if (MOBILE / "index.html").is_file() else " (not built: make mobile)"
    print(f"  mobile app   {backend.base_url}/mobile/ (the Expo app's web export){built}")
    print(f"  API          {cfg.apiUrl}")
    print(f"  config       {backend.base_url}/config.json")
    if cfg.websocketUrl:
        print(f"  WebSocket    {cfg.websocketUrl} (live progress; ?token=<ID token>)")
    print(f"  local AWS    {backend.aws_url} (moto: S3, DynamoDB, Cognito, SNS, SQS)")
    print(f"  local S3     {backend.s3_url} (checks signatures, expiry, POST policies; then moto)")
    for _, listener in backend.cloudfronts:
        print(f"  CloudFront   {listener.url} (share links: signatures checked as CloudFront does)")
    print(f"  outbox       {backend.base_url}/local/outbox (emails sent through the local SES)")
    print(f"  stacks       {', '.join(s.name for s in backend.stacks)}")
    routes = backend.api.routes if backend.api else []
    served = {t.function for t in backend.triggers} | {r.function for r in routes}
    handlers = sorted({backend.hosts[f].spec.handler for f in served})
    print(f"  functions    {', '.join(handlers)}")
    print(f"  routes       {', '.join(f'{r.method} {r.path}' for r in routes)}")
    triggers = [f"{t.kind} → {t.function.logical_id}" for t in backend.triggers]
    print(f"  triggers     {', '.join(triggers)}")
    styles = ", ".join(item["resourceId"] for item in backend.seeded) or "none"
    print(f"  styles       {styles}")
    for warning in backend.warnings:
        print(f"  warning      {warning}")
    print(
        "Tokens: the local Cognito (moto) signs with a private key that ships inside moto, so a\n"
        "  token anyone signs with that key is accepted here; on AWS only Cognito holds the key."
    )
    print("State lives in memory: it does not survive a restart. Ctrl-C stops everything.")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
