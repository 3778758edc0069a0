"""DELETE /apis/images/{userId}: nothing of the user is left, everybody else's data stays."""

import os

import boto3

from style_backend.storage import keys, objects
from style_backend.storage.display import DisplayHistory
from style_backend.storage.objects import delete_objects
from style_backend.storage.processes import ProcessStore
from tests.integration.api.conftest import BUCKET, TERMS, new_user, register
from tests.tables import TABLES, table_name

STYLES = ("street-f-light", "retro-m-dark")


def _user_with_everything(api, user: str) -> str:
    """Consent, a process that went all the way, its objects in every prefix, a result row
    and display history: what the pipeline leaves behind."""
    s3 = boto3.client("s3")
    assert api.call("POST", "/agree", user, {"termsVersion": TERMS}).status == 201
    store = ProcessStore()
    pid = store.create(user, list(STYLES), lambda p: keys.upload_key(user, p, "image/png"), 30)[
        "processId"
    ]
    store.mark_cropped(pid, keys.crop_key(user, pid))
    objects = [keys.upload_key(user, pid, "image/png"), keys.crop_key(user, pid)]
    for rid in STYLES:
        store.mark_style_swapping(pid, rid, keys.inference_id(pid, rid))
        objects.append(keys.inference_request_key(pid, rid))
    out = f"inference/out/{keys.inference_id(pid, STYLES[0])}.out"
    objects.append(out)
    store.table.update_item(  # the location SageMaker reported for the output
        Key={"processId": pid},
        UpdateExpression="SET styles.#r.outputLocation = :o",
        ExpressionAttributeNames={"#r": STYLES[0]},
        ExpressionAttributeValues={":o": f"s3://{BUCKET}/{out}"},
    )
    result = keys.result_key(user, pid, STYLES[0])
    objects.append(result)
    store.finish_style(pid, STYLES[0], result_key=result)
    for key in objects:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    boto3.resource("dynamodb").Table("Display").put_item(
        Item={
            "userId": user,
            "resultId": f"2026-11-01T00:00:00.000Z#{pid}#{STYLES[0]}",
            "processId": pid,
            "resourceId": STYLES[0],
            "resultKey": result,
            "createdAt": "2026-11-01T00:00:00.000Z",
        }
    )
    api.call("GET", f"/apis/images/{user}", user)  # writes DisplayHistory
    return pid


def _everything_of(user: str, process_ids: set[str]) -> dict[str, list]:
    """Every object naming the user, their processes or their inferences; every item of theirs."""
    s3 = boto3.client("s3")
    markers = {user, *process_ids}
    markers |= {keys.inference_id(pid, rid) for pid in process_ids for rid in STYLES}
    found: dict[str, list] = {"objects": []}
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        if any(marker in obj["Key"] for marker in markers):
            found["objects"].append(obj["Key"])
    ddb = boto3.resource("dynamodb")
    for name in map(table_name, TABLES):
        items = ddb.Table(name).scan()["Items"]
        found[name] = [i for i in items if i.get("userId") == user]
    return found


def test_erasure_leaves_nothing_of_the_user_and_keeps_the_others(api):
    alice, bob = new_user(), new_user()
    alice_pid = _user_with_everything(api, alice)
    bob_pid = _user_with_everything(api, bob)
    bob_before = _everything_of(bob, {bob_pid})
    outputs = [o for o in bob_before["objects"] if o.startswith("inference/out/")]
    assert outputs  # the fixture is what the test says it is

    reply = api.call("DELETE", f"/apis/images/{alice}", alice)
    assert reply.status == 202
    assert reply.json == {
        "userId": alice,
        "deleted": {
            "objects": 6,
            "processes": 1,
            "results": 1,
            "history": 1,
            "agreements": 1,
            "albums": 0,
        },
    }
    assert _everything_of(alice, {alice_pid}) == {
        "objects": [],
        **{name: [] for name in map(table_name, TABLES)},
    }
    assert _everything_of(bob, {bob_pid}) == bob_before
    # Consent went too: the user must agree again before uploading.
    assert api.call("GET", "/agree", alice).json["agreed"] is False


def test_erasure_is_idempotent(api):
    user = new_user()
    _user_with_everything(api, user)
    assert api.call("DELETE", f"/apis/images/{user}", user).status == 202
    again = api.call("DELETE", f"/apis/images/{user}", user)
    assert again.status == 202
    assert set(again.json["deleted"].values()) == {0}


def test_erasure_pages_through_many_objects_and_items(api, monkeypatch):
    monkeypatch.setattr(objects, "MAX_DELETE_OBJECTS", 10)  # S3's is 1000: same code path
    user = new_user()
    s3 = boto3.client("s3")
    count = 25
    assert delete_objects(BUCKET, []) == 0
    for i in range(count):
        s3.put_object(Bucket=BUCKET, Key=f"uploads/{user}/p{i}.jpg", Body=b"")
    DisplayHistory().record_shown(user, [f"r{i}" for i in range(60)])
    summary = api.call("DELETE", f"/apis/images/{user}", user).json["deleted"]
    assert summary["objects"] == count
    assert summary["history"] == 60
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"uploads/{user}/")


def test_a_user_whose_id_prefixes_another_keeps_the_other_safe(api):
    """uploads/{sub}/ ends with a slash: erasing 'abc' never touches 'abcd'."""
    s3 = boto3.client("s3")
    for key in ("uploads/abc/p.jpg", "uploads/abcd/p.jpg", "results/abcd/p/r.jpg"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
    register("abc")
    assert api.call("DELETE", "/apis/images/abc", "abc").json["deleted"]["objects"] == 1
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert left == ["results/abcd/p/r.jpg", "uploads/abcd/p.jpg"]


def test_a_deleted_or_disabled_account_cannot_erase_with_its_unexpired_token(api):
    """The authorizer checks the token only; erasure asks Cognito about the account."""
    idp = boto3.client("cognito-idp")
    pool = os.environ["USER_POOL_ID"]
    deleted, disabled = new_user(), new_user()
    for user in (deleted, disabled):
        _user_with_everything(api, user)
    token_of = {user: api.pool.mint(user) for user in (deleted, disabled)}  # issued before
    idp.admin_delete_user(UserPoolId=pool, Username=deleted)
    idp.admin_disable_user(UserPoolId=pool, Username=disabled)
    for user in (deleted, disabled):
        before = _everything_of(user, set())
        reply = api.call("DELETE", f"/apis/images/{user}", token=token_of[user])
        assert reply.status == 401, reply.json
        assert reply.error_code == "UNAUTHORIZED"
        assert _everything_of(user, set()) == before  # nothing erased by that token
    idp.admin_enable_user(UserPoolId=pool, Username=disabled)
    assert api.call("DELETE", f"/apis/images/{disabled}", token=token_of[disabled]).status == 202
