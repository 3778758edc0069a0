"""The live progress stack: the WebSocket API's routes and stage, the connections table, the
functions' grants (each only what its code does) and the two stream mappings with their
filters, read from the synthesized template."""

from __future__ import annotations

import json

from common.live import BY_USER, LiveEnv
from local.streams import record_matches
from stacks.live.publisher import ALBUM_FILTER, PROCESS_FILTER
from tests.unit.conftest import as_list, render, statements

STACK = "Live"


def _function(synth, prefix: str) -> tuple[str, dict]:
    (found,) = [
        (k, f["Properties"])
        for k, f in synth.resources(STACK, "AWS::Lambda::Function").items()
        if k.startswith(prefix)
    ]
    return found


def _grants(synth, prefix: str) -> dict[str, tuple[set[str], list[str]]]:
    """Sid → (actions, rendered resources) of the function's role."""
    role = _function(synth, prefix)[1]["Role"]["Fn::GetAtt"][0]
    return {
        s["Sid"]: ({*as_list(s["Action"])}, [render(r) for r in as_list(s["Resource"])])
        for p in synth.resources(STACK, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in statements(p["Properties"]["PolicyDocument"])
        if "Sid" in s
    }


def test_the_websocket_api_has_connect_and_disconnect_on_lambda_only(synth):
    (api,) = synth.resources(STACK, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {
        r["Properties"]["RouteKey"]
        for r in synth.resources(STACK, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {"$connect", "$disconnect"}  # clients send nothing: no $default
    integrations = synth.resources(STACK, "AWS::ApiGatewayV2::Integration").values()
    targets = {render(i["Properties"]["IntegrationUri"]) for i in integrations}
    assert len(targets) == 2 and all(
        "LiveConnectFunction" in t or "LiveDisconnectFunction" in t for t in targets
    )


def test_the_stage_is_throttled_and_logs_every_connection_without_the_token(synth):
    (stage,) = synth.resources(STACK, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "prod" and props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    log_format = json.loads(props["AccessLogSettings"]["Format"])
    assert {"connectionId", "routeKey", "status", "error"} <= set(log_format)
    assert "querystring" not in props["AccessLogSettings"]["Format"].lower()


def test_connections_expire_and_are_found_by_user(synth):
    (table,) = synth.resources(STACK, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "connectionId", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == BY_USER
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_connect_may_only_put_and_disconnect_only_delete(synth):
    connect = _grants(synth, "LiveConnectFunction")
    assert connect["ConnectionsTable"][0] == {"dynamodb:PutItem"}
    disconnect = _grants(synth, "LiveDisconnectFunction")
    assert disconnect["ConnectionsTable"][0] == {"dynamodb:DeleteItem"}
    env = _function(synth, "LiveConnectFunction")[1]["Environment"]["Variables"]
    assert {LiveEnv.USER_POOL_ID, LiveEnv.USER_POOL_CLIENT_ID} <= set(env)


def test_the_publisher_pushes_only_to_its_stage_and_reads_only_what_messages_need(synth):
    grants = _grants(synth, "ProgressPublisherFunction")
    actions, resources = grants["PushToConnections"]
    assert actions == {"execute-api:ManageConnections"}
    (arn,) = resources
    assert arn.endswith("/prod/POST/@connections/*")
    assert grants["ConnectionsTable"][0] == {"dynamodb:Query", "dynamodb:DeleteItem"}
    assert grants["AlbumTable"][0] == {"dynamodb:GetItem", "dynamodb:Query"}
    assert grants["SignResults"] == ({"s3:GetObject"}, [grants["SignResults"][1][0]])
    assert grants["SignResults"][1][0].endswith("/results/*")
    for name in ("Albums", "Processes"):
        assert grants[f"Read{name}Stream"][0] == {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        }
    assert grants["ListStreams"] == ({"dynamodb:ListStreams"}, ["*"])  # no resource-level form
    for name in ("Albums", "Processes"):
        assert grants[f"Decrypt{name}Stream"][0] == {"kms:Decrypt"}
    every = {a for actions, _ in grants.values() for a in actions}
    assert not {a for a in every if a.endswith(("PutItem", "UpdateItem", "PutObject"))}


def test_two_stream_mappings_start_at_latest_with_the_filters(synth):
    mappings = synth.resources(STACK, "AWS::Lambda::EventSourceMapping").values()
    patterns = sorted(
        json.loads(m["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"]) == p
        for m in mappings
        for p in (ALBUM_FILTER, PROCESS_FILTER)
    )
    assert patterns.count(True) == 2
    for m in mappings:
        props = m["Properties"]
        assert props["StartingPosition"] == "LATEST"
        assert props["MaximumRecordAgeInSeconds"] == 60 and props["BisectBatchOnFunctionError"]


def _record(keys: dict, image: dict, event: str = "MODIFY") -> dict:
    return {"eventName": event, "dynamodb": {"Keys": keys, "NewImage": {**keys, **image}}}


def test_the_filters_keep_jobs_shares_and_owned_processes_only():
    job = _record({"PK": {"S": "ALBUM#a"}, "SK": {"S": "JOB#j"}}, {"status": {"S": "RUNNING"}})
    share = _record({"PK": {"S": "ALBUM#a"}, "SK": {"S": "SHARE#s"}}, {})
    lookup = _record({"PK": {"S": "USER#u"}, "SK": {"S": "SHARE#s"}}, {})
    photo = _record({"PK": {"S": "ALBUM#a"}, "SK": {"S": "PHOTO#p"}}, {})
    removed = {**job, "eventName": "REMOVE"}
    assert [record_matches([ALBUM_FILTER], r) for r in (job, share, lookup, photo, removed)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    owned = _record({"processId": {"S": "p"}}, {"userId": {"S": "u"}}, "INSERT")
    marker = _record({"processId": {"S": "erasure#x"}}, {"status": {"S": "ERASED"}})
    assert [record_matches([PROCESS_FILTER], r) for r in (owned, marker)] == [True, False]


def test_the_process_and_album_tables_stream_new_images(synth):
    for stack, prefix in (("Tables", "ProcessTable"), ("Albums", "Table")):
        (table,) = [
            t["Properties"]
            for k, t in synth.resources(stack, "AWS::DynamoDB::Table").items()
            if k.startswith(prefix)
        ]
        assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_the_local_runtime_reads_the_api_and_the_stream_mappings_from_the_templates(synth):
    from local.cfn import Resolver, load_assembly
    from local.topology import Topology

    stacks = load_assembly(synth.outdir)
    topology = Topology(stacks, Resolver(stacks, "us-west-2", "http://127.0.0.1:9"))
    (api,) = topology.websocket_apis()
    assert api.stage == "prod"
    assert api.routes["$connect"].logical_id.startswith("LiveConnectFunction")
    assert api.routes["$disconnect"].logical_id.startswith("LiveDisconnectFunction")
    assert set(api.routes) == {"$connect", "$disconnect"}
    mappings = topology.stream_mappings()
    assert sorted(json.dumps(m.filters) for m in mappings) == sorted(
        json.dumps([p]) for p in (ALBUM_FILTER, PROCESS_FILTER)
    )
    streams = {t.name: t.stream_view_type for t in topology.tables()}
    for mapping in mappings:
        assert streams[mapping.table] == "NEW_IMAGE"
        assert mapping.function.logical_id.startswith("ProgressPublisherFunction")
        assert (mapping.starting_position, mapping.max_retries) == ("LATEST", 2)
