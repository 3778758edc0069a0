"""Faults injected into the running local backend (issue 15), each while a real upload is in the
pipeline: the FaceChain container killed mid-request, the local AWS refusing for a few seconds,
every event delivered twice, a function's worker killed mid-invocation. Whatever happens, every
process ends COMPLETED or FAILED with a reason, no result is stored twice, and the dead-letter
queues end empty: what reached them was consumed, and its styles say why they failed."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from local.photos import astronaut
from style_backend.domain.uploads import MAX_STYLES_PER_UPLOAD
from style_backend.storage import keys
from tests.e2e.conftest import TERMINAL, User, jpeg

pytestmark = pytest.mark.e2e


def wait_for(probe, timeout: float, what: str, every: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def depth(backend, queue_url: str) -> int:
    attrs = backend.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def quiet(backend, timeout: float = 60) -> None:
    """Every trigger queue and dead-letter queue empty: nothing left to deliver, no dead letter
    waiting (the pipeline's are the dead-letter function's trigger queues)."""
    urls = {t.queue_url for t in backend.triggers} | {t.dlq_url for t in backend.triggers}
    wait_for(
        lambda: all(depth(backend, url) == 0 for url in urls),
        timeout,
        "the trigger and dead-letter queues to drain",
        every=0.5,
    )


def settled(user: User, process_id: str, done: dict[str, Any]) -> list[dict[str, Any]]:
    """The process ended with a reason for every failure, and has one result per completed
    style, none twice. Returns its results."""
    assert done["status"] in TERMINAL, done
    if done["status"] == "FAILED":
        assert done["error"]["code"] and done["error"]["message"], done
    for style in done["styles"].values():
        assert style["status"] in TERMINAL, done
        if style["status"] == "FAILED":
            assert style["error"]["code"] and style["error"]["message"], done
    results = [r for r in user.results() if r["processId"] == process_id]
    completed = sorted(k for k, v in done["styles"].items() if v["status"] == "COMPLETED")
    assert sorted(r["resourceId"] for r in results) == completed, (results, done)
    assert len({r["resultId"] for r in results}) == len(results)
    return results


def refuses(moto) -> bool:
    try:
        socket.create_connection((moto.host, moto.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:  # queued as the port closed: not settled yet
        return False
    return False


@pytest.fixture
def user(backend) -> User:
    assert not backend.container.problem, backend.container.problem
    signed_in = User.sign_up(backend)
    signed_in.agree()
    return signed_in


@pytest.fixture
def styles(user) -> list[str]:
    """The first seeded styles, as many as one upload takes."""
    return [s["resourceId"] for s in user.styles()][:MAX_STYLES_PER_UPLOAD]


def test_model_container_killed_mid_request(backend, user, styles):
    """The first request dies with its container; the runtime starts the container again, as
    SageMaker replaces a failed instance, and the second request, queued meanwhile, is served."""
    restarts = backend.container.restarts
    killed: list[str] = []

    def crash(request) -> None:
        if not killed:
            killed.append(request.inference_id)
            backend.container.kill()

    backend.inference.on_sent = crash
    try:
        process_id = user.upload(jpeg(astronaut()), styles[:2])
        done = user.wait(process_id, timeout=120)
    finally:
        backend.inference.on_sent = None

    assert killed, "no request reached the container"
    assert backend.container.restarts == restarts + 1
    by_inference = {keys.inference_id(process_id, s): s for s in styles[:2]}
    lost = by_inference[killed[0]]
    assert done["styles"][lost]["status"] == "FAILED", done
    assert done["styles"][lost]["error"]["code"] == "SWAP_FAILED"
    assert "ModelError" in done["styles"][lost]["error"]["message"]
    (served,) = set(by_inference.values()) - {lost}
    assert done["styles"][served]["status"] == "COMPLETED", done
    assert done["status"] == "COMPLETED"
    settled(user, process_id, done)
    quiet(backend)


def test_local_aws_refusing_for_a_few_seconds(backend, user, styles):
    """moto's port closes for 3 s while the face crop runs (every call refused), then opens
    again with its state: the pipeline resumes, nothing is lost."""
    crop = backend.hosts[backend.function_by_handler("face_crop.handler")]
    pollers = backend.dispatcher.alive()
    process_id = user.upload(jpeg(astronaut()), styles)
    wait_for(lambda: crop.in_flight, 30, "the face crop to start")
    outage = threading.Thread(target=backend.moto.refuse, args=(3.0,))
    outage.start()
    wait_for(lambda: refuses(backend.moto), 2.5, "moto's port to refuse connections", every=0.1)
    # A call of the runtime's own (its pollers make them all the time) waits the outage out.
    assert backend.client("sqs").list_queues()["QueueUrls"]
    outage.join()

    done = user.wait(process_id, timeout=180)
    settled(user, process_id, done)
    assert done["status"] == "COMPLETED", done
    assert backend.dispatcher.alive() == pollers  # no poller died of a refused call
    quiet(backend)


def test_every_event_delivered_twice(backend, user, styles):
    """Every S3 and SNS event (and dead letter) reaches its function twice, the copy possibly at
    the same time: each style's inference runs once and each result is stored once."""
    dispatcher = backend.dispatcher
    duplicated, dead_letters = dispatcher.duplicated, dispatcher.dead_letters
    dispatcher.duplicate_deliveries = True
    try:
        process_id = user.upload(jpeg(astronaut()), styles)
        done = user.wait(process_id, timeout=120)
        quiet(backend)  # the late copies too
    finally:
        dispatcher.duplicate_deliveries = False

    # The upload's and the crop's events, and one completion per style, at the least.
    assert dispatcher.duplicated - duplicated >= 2 + len(styles)
    assert done["status"] == "COMPLETED", done
    assert settled(user, process_id, done)
    ran = {s: backend.inference.invocations[keys.inference_id(process_id, s)] for s in styles}
    assert ran == dict.fromkeys(styles, 1)
    assert dispatcher.dead_letters == dead_letters


def test_face_swap_worker_killed_during_its_endpoint_call(backend, user, styles, monkeypatch):
    """The face swap worker dies after claiming the style, while InvokeEndpointAsync is on its
    way (the call is held, then dropped): its request never reached the endpoint. The retried
    event finds the claim unconfirmed and keeps raising instead of dropping itself as a
    duplicate; past its retries the dead-letter function ends the style FAILED with a reason.
    Fresh workers serve the next upload, even after one of them died idle."""
    swap = backend.hosts[backend.function_by_handler("face_swap.handler")]
    held, release = threading.Event(), threading.Event()

    def held_then_dropped(request) -> None:
        held.set()
        release.wait(30)
        raise ConnectionAbortedError("the endpoint dropped the request")

    monkeypatch.setattr(backend.inference, "submit", held_then_dropped)
    dead_letters = backend.dispatcher.dead_letters
    process_id = user.upload(jpeg(astronaut()), styles[:1])
    assert held.wait(60), "the swap never called the endpoint"
    killed = swap.kill_worker()
    release.set()

    done = user.wait(process_id, timeout=120)
    settled(user, process_id, done)
    assert done["status"] == "FAILED", done
    assert done["error"]["code"] == "SWAP_FAILED"
    assert "try again later" in done["styles"][styles[0]]["error"]["message"]
    assert backend.dispatcher.dead_letters > dead_letters  # explained: the style says why
    quiet(backend)  # and drained

    monkeypatch.undo()
    assert killed not in swap.worker_pids()
    swap.kill_worker()  # idle: the next invocation finds its pool broken, and is retried
    pollers = backend.dispatcher.alive()
    again = user.upload(jpeg(astronaut()), styles[:1])
    assert user.wait(again, timeout=120)["status"] == "COMPLETED"
    assert backend.dispatcher.alive() == pollers
