"""The FaceFlow album stack: buckets, table, queue, state machine, functions and their grants."""

from __future__ import annotations

import json

from tests.unit.conftest import REPO_ROOT, as_list, render, statements

STACK = "Albums"
CONTEXT = json.loads((REPO_ROOT / "cdk.context.json").read_text())


def _definition(synth) -> dict:
    (machine,) = synth.resources(STACK, "AWS::StepFunctions::StateMachine").values()
    return json.loads(render(machine["Properties"]["DefinitionString"]))


def _role_statements(synth, function_id: str, stack: str = STACK) -> list[dict]:
    functions = synth.resources(stack, "AWS::Lambda::Function")
    (fn,) = [f for k, f in functions.items() if k.startswith(function_id)]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        s
        for policy in synth.resources(stack, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for s in statements(policy["Properties"]["PolicyDocument"])
    ]


def _role_actions(synth, function_id: str) -> set[str]:
    return {a for s in _role_statements(synth, function_id) for a in as_list(s["Action"])}


def _object_grants(synth, function_id: str, stack: str = STACK) -> dict[str, set[str]]:
    """s3 action → the object ARNs (rendered: `<RawXXXX.Arn>/tenant/*`) the role grants it on."""
    found: dict[str, set[str]] = {}
    for s in _role_statements(synth, function_id, stack):
        for action in as_list(s["Action"]):
            if action.startswith("s3:"):
                found.setdefault(action, set()).update(render(r) for r in as_list(s["Resource"]))
    return found


def _under(grants: dict[str, set[str]], action: str, bucket: str) -> set[str]:
    """The key patterns `action` is granted on in the bucket whose logical id starts `bucket`."""
    return {
        "/" + arn.split("/", 1)[1]
        for arn in grants.get(action, set())
        if "/" in arn
        and (arn.startswith(f"<{bucket}") or arn.startswith(f"import:style-albums-{bucket}"))
    }


def test_four_kms_encrypted_tls_only_private_buckets_with_multipart_cleanup(synth):
    buckets = [
        b["Properties"]
        for b in synth.resources(STACK, "AWS::S3::Bucket").values()
        if "KMSMasterKeyID" in json.dumps(b["Properties"].get("BucketEncryption", {}))
    ]
    assert len(buckets) == 4
    for props in buckets:
        assert props["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any(
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1
            for r in rules
        )
    with_cors = [p for p in buckets if "CorsConfiguration" in p]
    assert len(with_cors) == 2  # raw (PUT, parts) and derived (thumbnails)
    for props in with_cors:
        (rule,) = props["CorsConfiguration"]["CorsRules"]
        assert "PUT" in rule["AllowedMethods"] and rule["ExposedHeaders"] == ["ETag"]
    expiring = [
        r for p in buckets for r in p["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r
    ]
    # Exports expire whole; raw only what no photo claimed (test_unclaimed_uploads_expire).
    assert sorted(r.get("Prefix", "") for r in expiring) == ["", "incoming/"]
    keys = synth.resources(STACK, "AWS::KMS::Key")
    (album_key,) = [k for k in keys if k.startswith("Key")]  # the other: logs and queues
    assert {
        b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["KMSMasterKeyID"]["Fn::GetAtt"][0]
        for b in buckets
    } == {album_key}
    assert all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())
    policies = [
        render(p["Properties"]["PolicyDocument"])
        for p in synth.resources(STACK, "AWS::S3::BucketPolicy").values()
    ]
    assert all("aws:SecureTransport" in p for p in policies)


def test_single_table_with_its_indexes_pitr_and_kms(synth):
    (table,) = synth.resources(STACK, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["PK", "SK"]
    assert sorted(g["IndexName"] for g in props["GlobalSecondaryIndexes"]) == ["GSI1", "GSI2"]
    assert [i["IndexName"] for i in props["LocalSecondaryIndexes"]] == ["LSI1"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"


def test_raw_uploads_reach_the_starter_through_an_encrypted_queue_with_a_dlq(synth):
    (notes,) = synth.resources(STACK, "Custom::S3BucketNotifications").values()
    (config,) = notes["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert config["Events"] == ["s3:ObjectCreated:*"]
    # Uploads land under incoming/ (faceflow.storage.keys); the starter moves each to tenant/.
    filters = [{"Name": "prefix", "Value": "incoming/tenant/"}]
    assert config["Filter"]["Key"]["FilterRules"] == filters
    queues = synth.resources(STACK, "AWS::SQS::Queue")
    upload = queues[config["QueueArn"]["Fn::GetAtt"][0]]["Properties"]
    # S3 event records name the user's photos: the stack's customer key, queue and DLQ alike.
    for queue in queues.values():
        assert render(queue["Properties"]["KmsMasterKeyId"]).startswith("<StackKey")
    assert upload["RedrivePolicy"]["maxReceiveCount"] == 5
    (stack_key,) = [k for k in synth.resources(STACK, "AWS::KMS::Key") if k.startswith("StackKey")]
    key_policy = synth.resources(STACK, "AWS::KMS::Key")[stack_key]["Properties"]["KeyPolicy"]
    (s3_statement,) = [
        s for s in statements(key_policy) if s.get("Sid") == "S3NotificationsOfOneBucket"
    ]
    assert s3_statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert render(s3_statement["Condition"]["ArnLike"]["aws:SourceArn"]).startswith("<Raw")
    assert "aws:SourceAccount" in s3_statement["Condition"]["StringEquals"]
    (mapping,) = [
        m
        for m in synth.resources(STACK, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == config["QueueArn"]
    ]
    assert mapping["Properties"]["FunctionName"]["Ref"].startswith("AlbumJobStarterFunction")


def test_the_state_machine_runs_the_steps_with_retry_and_catch_on_every_task(synth):
    definition = _definition(synth)
    states = definition["States"]
    order, name = [], definition["StartAt"]
    while name in states and states[name]["Type"] in ("Task", "Map"):
        order.append(name)
        name = states[name].get("Next")
    # One invocation per photo (ingest, faces, vectors), not three: docs/faceflow.md, costs.
    assert order == ["ProcessPhoto", "Dedupe", "Cluster", "Notify"]
    # Cluster: the album's one writer, through its FIFO message group, answering the token
    cluster = states["Cluster"]
    assert render(cluster["Resource"]).endswith(":states:::sqs:sendMessage.waitForTaskToken")
    assert cluster["Parameters"]["MessageGroupId.$"] == "$.albumId"
    assert cluster["Parameters"]["MessageBody"]["taskToken.$"] == "$$.Task.Token"
    assert cluster["TimeoutSeconds"] > 0
    per_photo = ("ProcessPhoto",)
    tasks = [states[n] for n in order if n not in per_photo]
    for name in per_photo:  # a Map over the job's photos, one task per photo inside
        assert states[name]["Type"] == "Map" and states[name]["ItemsPath"] == "$.photoIds"
        (inner,) = states[name]["ItemProcessor"]["States"].values()
        tasks.append(inner)
    for task in tasks:
        (retry,) = task["Retry"]
        assert "TransientStepError" in retry["ErrorEquals"] and retry["BackoffRate"] == 2
    for name in order:
        (catch,) = states[name]["Catch"]
        assert catch["Next"] == "FailJob" and catch["ResultPath"] == "$.error"
    assert states["FailJob"]["Next"] == "JobFailed" and states["JobFailed"]["Type"] == "Fail"


def test_alarms_on_dlq_depth_failed_executions_and_queue_age_notify_operators(synth):
    alarms = synth.resources(STACK, "AWS::CloudWatch::Alarm").values()
    metrics = sorted(a["Properties"]["MetricName"] for a in alarms)
    assert metrics == [
        "ApproximateAgeOfOldestMessage",
        "ApproximateAgeOfOldestMessage",  # the cluster writer's FIFO queue
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesVisible",  # the cluster writer's FIFO DLQ
        "ApproximateNumberOfMessagesVisible",  # the share exporter's DLQ (test_sharing_stack)
        "ExecutionsFailed",
    ]
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_each_function_gets_only_what_its_code_does(synth):
    assert _role_actions(synth, "AlbumProcessPhotoFunction") == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",  # a photo's faces, on a retry past the faces stage
        "dynamodb:DeleteItem",  # its own faces, when the album went meanwhile
        "s3:GetObject",  # raw originals; its own crops, on a retry past the faces stage
        "s3:ListBucket",  # a missing original answers 404, not 403
        "s3:PutObject",  # thumbnails, face crops, vectors
        "s3:DeleteObject",  # its own thumbnail and faces, when the album went meanwhile
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        # Active tracing (every ProjectFunction): X-Ray has no resource-level permissions.
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    process = _object_grants(synth, "AlbumProcessPhotoFunction")
    assert _under(process, "s3:GetObject", "Raw") == {"/tenant/*"}  # originals only
    assert "s3:PutObject" not in {a for a in process if _under(process, a, "Raw")}
    assert "sns:Publish" in _role_actions(synth, "AlbumNotifyFunction")
    assert "states:StartExecution" in _role_actions(synth, "AlbumJobStarterFunction")
    # a photo released from DUPLICATE starts a job of its own
    assert "states:StartExecution" in _role_actions(synth, "AlbumsApiFunction")
    assert "s3:DeleteObject" in _role_actions(synth, "AlbumsApiFunction")
    assert "dynamodb:PutItem" not in _role_actions(synth, "AlbumNotifyFunction")
    people = _role_actions(synth, "AlbumPeopleApiFunction")
    # the people records' writer (faceflow.storage.people): the album's one writer's set
    writer = _role_actions(synth, "AlbumClusterWriterFunction")
    records = {"dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert records | {"dynamodb:PutItem", "s3:PutObject"} <= people
    assert records <= writer
    assert {"states:SendTaskSuccess", "states:SendTaskFailure"} <= writer
    assert not {"sns:Publish", "states:StartExecution"} & (people | writer)


def test_the_face_steps_and_the_people_api_run_in_the_faceflow_image(synth):
    functions = synth.resources(STACK, "AWS::Lambda::Function")
    images = {
        k.rstrip("0123456789ABCDEF"): f["Properties"]["ImageConfig"]["Command"]
        for k, f in functions.items()
        if f["Properties"].get("PackageType") == "Image"
    }
    assert images == {
        "AlbumProcessPhotoFunction": ["album_steps.process_photo"],
        "AlbumDedupeFunction": ["album_steps.dedupe"],
        "AlbumClusterWriterFunction": ["album_steps.cluster_writer"],
        "AlbumPeopleApiFunction": ["people_api.handler"],
        "SharesApiFunction": ["share_api.handler"],  # a share's photos: the people backend
    }
    for f in functions.values():
        if f["Properties"].get("PackageType") == "Image":
            assert "Layers" not in f["Properties"]  # an image carries its own packages


def test_album_routes_are_on_the_rest_api_and_erasure_reaches_the_albums(synth):
    methods = synth.resources("Api", "AWS::ApiGateway::Method").values()
    album_methods = [
        m
        for m in methods
        if "AlbumsApiFunction" in render(m["Properties"].get("Integration", {}).get("Uri", ""))
    ]
    assert len(album_methods) == 9
    people_methods = [
        m
        for m in methods
        if "AlbumPeopleApiFunction" in render(m["Properties"].get("Integration", {}).get("Uri", ""))
    ]
    assert len(people_methods) == 8
    assert all(m["Properties"]["AuthorizationType"] == "COGNITO_USER_POOLS" for m in people_methods)
    assert all(m["Properties"]["AuthorizationType"] == "COGNITO_USER_POOLS" for m in album_methods)
    (erasure,) = [
        f
        for k, f in synth.resources("Functions", "AWS::Lambda::Function").items()
        if k.startswith("ErasureFunction")
    ]
    env = erasure["Properties"]["Environment"]["Variables"]
    assert {"ALBUM_TABLE", "ALBUM_RAW_BUCKET", "ALBUM_EXPORTS_BUCKET"} <= set(env)


def test_the_album_stack_is_cdk_nag_clean(synth):
    assert synth.error is None
    violations = [
        v
        for r in synth.validation_report["pluginReports"]
        for v in r["violations"]
        if any(c["constructPath"].startswith(f"{STACK}/") for c in v["violatingConstructs"])
    ]
    assert violations == []


def test_unclaimed_uploads_expire_and_originals_never_do(synth):
    """Uploads land under incoming/ (presigned URLs cannot be revoked): the starter moves a
    claimed one to tenant/ and deletes the rest; what it never saw expires."""
    raw = [
        b["Properties"]
        for k, b in synth.resources(STACK, "AWS::S3::Bucket").items()
        if k.startswith("Raw")
    ]
    (rules,) = [p["LifecycleConfiguration"]["Rules"] for p in raw]
    (expiry,) = [r for r in rules if "ExpirationInDays" in r]
    assert expiry["Prefix"] == "incoming/"
    assert expiry["ExpirationInDays"] == CONTEXT["album_incoming_expiry_days"]


def test_upload_urls_write_only_to_incoming_and_only_the_starter_moves_them(synth):
    api = _object_grants(synth, "AlbumsApiFunction")
    assert _under(api, "s3:PutObject", "Raw") == {"/incoming/tenant/*"}  # never an original
    assert _under(api, "s3:GetObject", "Raw") == {"/incoming/tenant/*"}
    starter = _object_grants(synth, "AlbumJobStarterFunction")
    assert _under(starter, "s3:GetObject", "Raw") == {"/incoming/tenant/*"}  # copy source
    assert _under(starter, "s3:PutObject", "Raw") == {"/tenant/*"}  # the original
    assert _under(starter, "s3:DeleteObject", "Raw") == {"/incoming/tenant/*", "/tenant/*"}
    assert set(starter) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
    assert {"dynamodb:GetItem", "dynamodb:Query"} <= _role_actions(
        synth, "AlbumJobStarterFunction"
    )  # a redelivered upload reads its photo (and rebuilds a missing job from its photos)
    (api_fn,) = [
        f
        for k, f in synth.resources(STACK, "AWS::Lambda::Function").items()
        if k.startswith("AlbumsApiFunction")
    ]
    env = api_fn["Properties"]["Environment"]["Variables"]
    assert env["ALBUM_UPLOAD_URL_EXPIRY_SECONDS"] == str(CONTEXT["album_upload_url_expiry_seconds"])


def test_album_deletion_and_user_erasure_reach_the_uploads_too(synth):
    for stack, function in (("Albums", "AlbumsApiFunction"), ("Functions", "ErasureFunction")):
        grants = _object_grants(synth, function, stack)
        assert _under(grants, "s3:DeleteObject", "Raw") == {"/tenant/*", "/incoming/tenant/*"}


def test_steps_may_delete_what_they_wrote_for_an_album_deleted_meanwhile(synth):
    """faceflow.edge.pipeline / photo_steps / storage.people clean up after themselves
    (album_alive after the last write): ProcessPhoto its thumbnail, crops, vectors and faces,
    Dedupe its digest claims, the cluster writer what a change wrote."""
    grants = _object_grants(synth, "AlbumProcessPhotoFunction")
    assert _under(grants, "s3:DeleteObject", "Derived") == {"/tenant/*"}
    assert _under(grants, "s3:DeleteObject", "Embeddings") == {"/tenant/*"}
    assert "s3:DeleteObject" not in {a for a in grants if _under(grants, a, "Raw")}
    assert "dynamodb:DeleteItem" in _role_actions(synth, "AlbumProcessPhotoFunction")
    for step in ("AlbumDedupeFunction", "AlbumClusterWriterFunction"):
        assert "dynamodb:DeleteItem" in _role_actions(synth, step)
