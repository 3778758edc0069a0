"""The people records (faceflow.storage.people) on moto: any sequence of edits through the API's
use cases leaves the same people as the domain model run on the whole album; writers racing
(edits and the cluster writer) never lose each other's work nor break an invariant; deleting the
album removes every record. Synthetic 128-D faces (identities of 4 faces, 2 per photo)."""

from __future__ import annotations

import random
import threading

import boto3
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from common.errors import DomainError
from faceflow.domain.people import AlbumPeople, EditRefused, FaceEntry
from faceflow.edge import clusterer
from faceflow.edge import people as cases
from faceflow.storage import albums, faces, keys
from faceflow.storage import people as store
from faceflow.storage.table import table
from local.moto_dynamodb import cheap_transactions
from tests.album_resources import ENV, create_album_resources

USER = "u-people"
DIM = 128


@pytest.fixture(scope="module")
def moto_env():
    patch = pytest.MonkeyPatch()
    for name, value in ENV.items():
        patch.setenv(name, value)
    patch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    cheap_transactions()
    serialised()
    with mock_aws():
        create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        yield
    patch.undo()


def serialised() -> None:
    """DynamoDB applies each request atomically; moto in one process with threads does not (a
    conditional update read and written by two threads at once): one request at a time, as the
    local runtime serves them (local.motoserver)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "serialised", False):
        return
    lock, call = threading.Lock(), DynamoHandler.call_action

    def one_at_a_time(self):
        with lock:
            return call(self)

    one_at_a_time.serialised = True
    DynamoHandler.call_action = one_at_a_time


def _photos(album: str, count: int, start: int, rng: np.random.Generator, centres) -> list[str]:
    """`count` photos PROCESSING with 2 embedded faces each (different identities)."""
    ids = []
    for p in range(start, start + count):
        photo = f"{p:06d}aa"
        ids.append(photo)
        who = rng.choice(len(centres), size=2, replace=False)
        vectors = centres[who] + rng.normal(size=(2, DIM)) * 0.03
        key = keys.vectors_key(USER, album, photo)
        faces.put_vectors(key, vectors)
        table().put_item(
            Item={
                **keys.photo_key(album, photo),
                "photoId": photo,
                "userId": USER,
                "status": "PROCESSING",
                "faceCount": 2,
            }
        )
        for i in range(2):
            table().put_item(
                Item={
                    **keys.face_key(album, keys.face_id_of(photo, i)),
                    "faceId": keys.face_id_of(photo, i),
                    "photoId": photo,
                    "userId": USER,
                    "lowQuality": bool(i and p % 5 == 0),
                    "box": [0, 0, 10, 10],
                    "score": 1,
                    "cropKey": f"crop-{photo}-{i}",
                    "embeddingKey": key,
                    "embeddingRow": i,
                }
            )
    return ids


def _album(rng: np.random.Generator, photos: int = 12) -> tuple[str, np.ndarray]:
    album = albums.create_album(USER, "store").album_id
    centres = rng.normal(size=(photos // 2, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    clusterer.add_faces(USER, album, _photos(album, photos, 0, rng, centres))
    return album, centres


def _stored(album: str) -> tuple[dict[str, str], dict[str, str]]:
    """faceId → clusterId and clusterId → label, as the records hold them."""
    cluster_of, labels = {}, {}
    for record in store.all_clusters(album):
        for member in store.members(album, record.cluster_id):
            assert member.face_id not in cluster_of, "a face in two clusters"
            cluster_of[member.face_id] = record.cluster_id
        if record.label is not None:
            labels[record.cluster_id] = record.label
    return cluster_of, labels


def _reference(album: str) -> AlbumPeople:
    """The domain model of the whole album, from the records as they are now."""
    model = AlbumPeople()
    cluster_of, labels = _stored(album)
    for record in store.all_clusters(album):
        for m in store.members(album, record.cluster_id):
            model.faces[m.face_id] = FaceEntry(m.face_id, m.photo_id, m.vector, m.low_quality)
    model.cluster_of, model.labels = cluster_of, labels
    return model


def _invariants(album: str) -> None:
    """Every face in one cluster (its PLACED# record agrees), every record's counts and sum right,
    no empty cluster, the head's counts right, no cannot-link broken."""
    cluster_of, _ = _stored(album)
    records = store.clusters(album, [r.cluster_id for r in store.all_clusters(album)])
    placed = store.face_clusters(album, [f["faceId"] for f in faces.face_items(album)])
    assert placed == cluster_of
    for cluster_id, record in records.items():
        found = store.members(album, cluster_id)
        good = [m for m in found if not m.low_quality]
        assert record.size == len(found) > 0 and record.good == len(good)
        if record.views is not None:  # what a page shows of it, kept in its record
            assert sorted(record.views) == sorted(m.face_id for m in found)
            assert all(record.views[m.face_id]["photoId"] == m.photo_id for m in found)
        if good:
            units = [m.vector / np.linalg.norm(m.vector) for m in good]
            assert np.allclose(record.sum, np.sum(units, axis=0), atol=1e-4)
    head = store.head(album)
    assert int(head["faceCount"]) == len(cluster_of)
    assert int(head["clusterCount"]) == len(records)
    assert "lockOwner" not in head and "intentKey" not in head
    for link in store.links(album):
        if isinstance(link, tuple):
            left, right = link
            for cluster_id in {cluster_of[f] for f in left if f in cluster_of}:
                assert not any(cluster_of.get(f) == cluster_id for f in right)


# ---------------------------------------------------------------- the store = the whole model

OPS = st.lists(
    st.tuples(
        st.sampled_from(["label", "merge", "split", "undo", "recluster", "add"]),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    min_size=3,
    max_size=10,
)


def _apply(album: str, model: AlbumPeople, op, photo_start: int, rng, centres) -> int:
    """One operation on the store (the API's use cases, the writer) and on the whole model."""
    kind, i, j = op
    clusters = sorted(model.members())
    a, b = clusters[i % len(clusters)], clusters[j % len(clusters)]
    if kind == "add":
        new = _photos(album, 2, photo_start, rng, centres)
        clusterer.add_faces(USER, album, new)
        return photo_start + 2
    leaving = sorted(model.members()[a])[:1]  # chosen before either runs
    calls = {
        "label": (
            lambda: cases.label(USER, album, a, f"name {j}"),
            lambda: model.label(a, f"name {j}"),
        ),
        "merge": (lambda: cases.merge(USER, album, [a, b]), lambda: model.merge([a, b])),
        "split": (
            lambda: cases.split(USER, album, a, leaving),
            lambda: model.split(a, leaving),
        ),
        "undo": (lambda: cases.undo(USER, album), lambda: model.undo()),
        "recluster": (lambda: cases.recluster(USER, album), lambda: model.recluster()),
    }
    on_store, on_model = calls[kind]
    refused = []
    try:
        on_model()
    except EditRefused as err:
        refused.append(err.code)
    try:
        on_store()
        assert not refused, f"{kind}: the model refused ({refused}), the store did not"
    except DomainError as err:
        assert refused, f"{kind}: the store refused {err.code}, the model did not"
    return photo_start


@settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example is slow
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS, seed=st.integers(0, 1000))
def test_any_edits_on_the_records_leave_what_the_whole_model_would(moto_env, ops, seed):
    rng = np.random.default_rng(seed)
    album, centres = _album(rng)
    model = _reference(album)
    model.edits = []  # the log starts empty in both
    photo_start = 100
    for op in ops:
        before_faces = set(model.faces)
        photo_start = _apply(album, model, op, photo_start, rng, centres)
        if op[0] == "add":  # the writer's placement is the model's add_faces: take it as stored
            stored, _ = _stored(album)
            new = set(stored) - before_faces
            for face_id in new:
                model.faces[face_id] = _reference(album).faces[face_id]
                model.cluster_of[face_id] = stored[face_id]
        cluster_of, labels = _stored(album)
        assert cluster_of == model.cluster_of, (ops, op, model.labels, labels)
        assert labels == {c: n for c, n in model.labels.items() if c in set(cluster_of.values())}
        assert [e["editId"] for e in cases.edits(USER, album)] == [
            e.edit_id for e in reversed(model.edits)
        ]
    _invariants(album)


# ---------------------------------------------------------------- writers racing


def test_writers_racing_lose_nothing_and_break_no_invariant(moto_env, monkeypatch):
    monkeypatch.setattr(cases, "EDIT_WAIT_SECONDS", 30.0)
    rng = np.random.default_rng(7)
    album, centres = _album(rng, photos=16)
    errors: list[BaseException] = []
    labelled: dict[str, str] = {}
    done: list[str] = []  # the edits that landed

    def editor(seed: int) -> None:
        pick = random.Random(seed)
        try:
            for n in range(6):
                clusters = [r.cluster_id for r in store.all_clusters(album)]
                a, b = pick.sample(clusters, 2)
                choice = pick.choice(["label", "merge", "split", "undo"])
                try:
                    if choice == "label":
                        name = f"editor {seed} #{n}"
                        cases.label(USER, album, a, name)
                        labelled[a] = name
                    elif choice == "merge":
                        cases.merge(USER, album, [a, b])
                    elif choice == "split":
                        members = store.members(album, a)
                        if len(members) > 1:
                            cases.split(USER, album, a, [members[0].face_id])
                    else:
                        cases.undo(USER, album)
                    done.append(choice)
                except DomainError as err:  # a cluster merged away meanwhile, nothing to undo
                    assert err.code in (
                        "NOT_FOUND",
                        "CONFLICT",
                        "NOTHING_TO_UNDO",
                        "VALIDATION_ERROR",
                    )
        except BaseException as err:
            errors.append(err)

    def writer() -> None:
        try:
            for k in range(4):
                clusterer.add_faces(USER, album, _photos(album, 3, 200 + 3 * k, rng, centres))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=editor, args=(s,)) for s in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _invariants(album)
    cluster_of, _ = _stored(album)
    assert len(cluster_of) == 2 * (16 + 12)  # every face the writer added is placed, once
    assert done, "no edit landed"  # the editors did change the people (undos may take all back)


def test_deleting_the_album_removes_every_people_record_and_object(moto_env):
    rng = np.random.default_rng(3)
    album, _ = _album(rng)
    a, b = sorted(set(_stored(album)[0].values()))[:2]
    cases.merge(USER, album, [a, b])
    cases.label(USER, album, a if a in _stored(album)[0].values() else b, "x")
    albums.delete_album(USER, album)
    left = [i for i in table().scan()["Items"] if album in i["PK"]]
    assert left == []
    s3 = boto3.client("s3")
    for bucket in ENV.values():
        if bucket.startswith("albums-"):
            listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
            assert [o["Key"] for o in listed if album in o["Key"]] == []


def test_a_large_albums_recluster_is_queued_for_its_writer_and_runs_there(moto_env, monkeypatch):
    import json

    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="recluster.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    monkeypatch.setenv("ALBUM_CLUSTER_QUEUE_URL", url)
    monkeypatch.setattr(cases, "RECLUSTER_IN_REQUEST_FACES", 5)
    rng = np.random.default_rng(11)
    album, _ = _album(rng)
    a, b = sorted(set(_stored(album)[0].values()))[:2]
    survivor = cases.merge(USER, album, [a, b])  # the recluster must keep it (a must-link)
    merged = _stored(album)[0]
    clusters, queued = cases.recluster(USER, album)
    assert queued and clusters == int(store.head(album)["clusterCount"])
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert body["kind"] == "recluster" and body["albumId"] == album
    seq = int(store.head(album)["seq"])
    assert clusterer.run_batch([body]) == {album: 0}
    assert int(store.head(album)["seq"]) >= seq  # it ran under the lease (a change or none)
    after = _stored(album)[0]
    together = {f for f, c in merged.items() if c == survivor}
    assert len(together) >= 2 and len({after[f] for f in together}) == 1
    _invariants(album)
