"""Erasure racing the pipeline over HTTP (issue 18, item 1), as the probe did it: sign up, agree,
upload a real face with every style, `DELETE /apis/images/{sub}` 0, 0.3, 0.5 and 0.8 s later;
then nothing of any of these users is left in the bucket or the tables. An inference already sent
is cleaned by its completion, which on a loaded CPU can come well after the erasure: the test
looks after QUIET_SECONDS (so that late writers have written) and then waits for the cleanup,
SETTLE_SECONDS at most."""

from __future__ import annotations

import json
import time

import pytest

from local.photos import astronaut
from style_backend.domain.uploads import MAX_STYLES_PER_UPLOAD
from style_backend.storage import keys
from tests.e2e.conftest import User, jpeg

pytestmark = pytest.mark.e2e

DELAYS = (0.0, 0.3, 0.5, 0.8)
QUIET_SECONDS = 15
SETTLE_SECONDS = 60
TOMBSTONE_FIELDS = {"processId", "status", "erasedAt", "updatedAt", "ttl"}


def leftovers(backend, user: User, process_id: str, style_ids: list[str]) -> list[str]:
    """Objects naming the user, the process or one of its inferences; items naming the user;
    Process items of the process that are more than a bare tombstone."""
    env = backend.environment_of("erasure.handler")
    markers = {user.sub, process_id, *(keys.inference_id(process_id, s) for s in style_ids)}
    s3 = backend.client("s3")
    found = [
        f"s3: {o['Key']}"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=env["BUCKET_NAME"])
        for o in page.get("Contents", [])
        if any(m in o["Key"] for m in markers)
    ]
    ddb = backend.client("dynamodb")
    for variable in ("PROCESS_TABLE", "DISPLAY_TABLE", "DISPLAY_HISTORY_TABLE"):
        for page in ddb.get_paginator("scan").paginate(TableName=env[variable]):
            for item in page["Items"]:
                text = json.dumps(item)
                bare_tombstone = set(item) <= TOMBSTONE_FIELDS
                if user.sub in text or (process_id in text and not bare_tombstone):
                    found.append(f"{variable}: {sorted(item)}")
    agreements = ddb.query(
        TableName=env["USER_AGREEMENT_TABLE"],
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user.sub}},
    )["Items"]
    found += [f"USER_AGREEMENT_TABLE: {item['termsVersion']['S']}" for item in agreements]
    return found


def test_erasure_at_any_point_of_the_pipeline_leaves_nothing(backend):
    photo = jpeg(astronaut())
    erased = []
    for delay in DELAYS:
        user = User.sign_up(backend)
        user.agree()
        style_ids = [s["resourceId"] for s in user.styles()][:MAX_STYLES_PER_UPLOAD]
        process_id = user.upload(photo, style_ids)
        time.sleep(delay)
        reply = user.call("DELETE", f"/apis/images/{user.sub}")
        assert reply.status_code == 202, reply.text
        erased.append((delay, user, process_id, style_ids))
    deadline = time.monotonic() + SETTLE_SECONDS
    time.sleep(QUIET_SECONDS)
    while True:
        left = {delay: leftovers(backend, *rest) for delay, *rest in erased}
        if not any(left.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert left == {delay: [] for delay in DELAYS}


def test_a_deleted_accounts_token_cannot_erase(backend):
    """Its token is still unexpired and passes the authorizer; erasure asks Cognito first."""
    user = User.sign_up(backend)
    user.agree()
    pool_id = backend.environment_of("erasure.handler")["USER_POOL_ID"]
    backend.client("cognito-idp").admin_delete_user(UserPoolId=pool_id, Username=user.sub)
    assert user.call("GET", "/agree").status_code == 200  # the authorizer's limit, documented
    reply = user.call("DELETE", f"/apis/images/{user.sub}")
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "UNAUTHORIZED"


def test_a_selfie_posted_after_erasure_is_deleted_on_arrival(backend):
    """Issue 25, item 1, the styling side: the upload form was handed out, the user erased, then
    the form posted (it is valid until it expires, as on AWS). Face crop finds the process lost
    to erasure and deletes the upload: nothing of the user stays."""
    user = User.sign_up(backend)
    user.agree()
    style_ids = [s["resourceId"] for s in user.styles()][:MAX_STYLES_PER_UPLOAD]
    ticket = user.start_process(style_ids)
    assert user.call("DELETE", f"/apis/images/{user.sub}").status_code == 202
    posted = user.post_selfie(ticket, jpeg(astronaut()))
    assert posted.status_code in (200, 201, 204), posted.text
    deadline = time.monotonic() + SETTLE_SECONDS
    while leftovers(backend, user, ticket["processId"], style_ids):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert leftovers(backend, user, ticket["processId"], style_ids) == []
