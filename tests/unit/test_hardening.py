"""Issue 15's template properties: the model's private network and isolation, customer keys
with rotation and least-privilege policies, encrypted queues and logs, reserved concurrency in
front of the GPU endpoint, and checkov's skips (each with a reason)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.conftest import REPO_ROOT, as_list, render, statements

CHECKOV = REPO_ROOT / ".venv-iac" / "bin" / "checkov"


def _one(synth, stack: str, resource_type: str) -> tuple[str, dict]:
    (item,) = synth.resources(stack, resource_type).items()
    return item


def _every(synth, resource_type: str):
    for stack in synth.stack_ids:
        for logical_id, resource in synth.resources(stack, resource_type).items():
            yield stack, logical_id, resource


def _skips(resource: dict) -> dict[str, str]:
    return {
        s["id"]: s["comment"]
        for s in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


# ---------------------------------------------------------------- the model's network


def test_the_facechain_model_is_network_isolated_in_the_model_vpc(synth):
    _, model = _one(synth, "FaceChain", "AWS::SageMaker::Model")
    props = model["Properties"]
    assert props["EnableNetworkIsolation"] is True
    assert "BUCKET_NAME" not in props["PrimaryContainer"]["Environment"]  # it reads nothing
    vpc_id, _ = _one(synth, "FaceChain", "AWS::EC2::VPC")
    subnets = synth.resources("FaceChain", "AWS::EC2::Subnet")
    assert sorted(s["Ref"] for s in props["VpcConfig"]["Subnets"]) == sorted(subnets)
    azs = {json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets.values()}
    assert len(subnets) == 2 and len(azs) == 2  # SageMaker wants two AZs
    for subnet in subnets.values():
        assert subnet["Properties"]["VpcId"] == {"Ref": vpc_id}
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    (group,) = props["VpcConfig"]["SecurityGroupIds"]
    assert group["Fn::GetAtt"][0] in synth.resources("FaceChain", "AWS::EC2::SecurityGroup")
    # The S3 endpoint (and so its routes and policy) exists before SageMaker uses the subnets.
    (endpoint_id,) = synth.resources("FaceChain", "AWS::EC2::VPCEndpoint")
    assert endpoint_id in model["DependsOn"]


def test_the_model_vpc_has_no_way_out_but_the_s3_gateway_endpoint(synth):
    template = synth.template_json("FaceChain")["Resources"]
    types = {r["Type"] for r in template.values()}
    for way_out in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP"):
        assert way_out not in types
    assert "AWS::EC2::Route" not in types  # the only routes: the endpoint's prefix list
    (endpoint,) = synth.resources("FaceChain", "AWS::EC2::VPCEndpoint").values()
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert render(props["ServiceName"]).endswith(".s3")
    tables = synth.resources("FaceChain", "AWS::EC2::RouteTable")
    assert sorted(t["Ref"] for t in props["RouteTableIds"]) == sorted(tables)
    allowed = {
        (action, render(resource))
        for s in statements(props["PolicyDocument"])
        for action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }
    bucket = "import:style-s3-BaseBucketArn"
    assert allowed == {
        ("s3:GetObject", f"{bucket}/inference/in/*"),
        ("s3:PutObject", f"{bucket}/inference/out/*"),
        ("s3:PutObject", f"{bucket}/inference/failed/*"),
    }


def test_the_model_security_group_takes_nothing_in_and_sends_only_https(synth):
    (group,) = synth.resources("FaceChain", "AWS::EC2::SecurityGroup").values()
    props = group["Properties"]
    assert "SecurityGroupIngress" not in props
    assert not synth.resources("FaceChain", "AWS::EC2::SecurityGroupIngress")
    (egress,) = props["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)


def test_the_model_vpc_logs_every_flow_to_an_encrypted_log_group(synth):
    (flow_log,) = synth.resources("FaceChain", "AWS::EC2::FlowLog").values()
    props = flow_log["Properties"]
    assert props["TrafficType"] == "ALL" and props["ResourceType"] == "VPC"
    log_group = synth.template_json("FaceChain")["Resources"][props["LogGroupName"]["Ref"]]
    assert render(log_group["Properties"]["KmsKeyId"]).startswith("<StackKey")


def test_the_execution_role_may_place_interfaces_only_in_the_model_vpc(synth):
    roles = synth.resources("FaceChain", "AWS::IAM::Role")
    role = next(r for k, r in roles.items() if k.startswith("EndpointExecutionRole"))
    found = {
        s["Sid"]: s
        for policy in role["Properties"]["Policies"]
        for s in statements(policy["PolicyDocument"])
    }
    create = found["CreateModelInterfaces"]
    resources = sorted(render(r) for r in as_list(create["Resource"]))
    assert sum(":subnet/" in r for r in resources) == 2
    assert sum(":security-group/" in r for r in resources) == 1
    manage = found["ManageModelInterfaces"]
    assert ":vpc/<ModelVpc" in render(manage["Condition"]["ArnEquals"]["ec2:Vpc"])
    assert [render(r) for r in as_list(manage["Resource"])] == [
        "arn:<AWS::Partition>:ec2:us-west-2:<AWS::AccountId>:network-interface/*"
    ]
    assert all(
        a.startswith("ec2:Describe") for a in as_list(found["DescribeModelNetwork"]["Action"])
    )


def test_the_local_runtime_gives_the_isolated_container_no_aws(synth):
    from local.cfn import Resolver, load_assembly
    from local.runtime import ISOLATED_ENDPOINT_URL, LocalBackend
    from local.topology import Topology

    stacks = load_assembly(synth.outdir)
    (endpoint,) = Topology(stacks, Resolver(stacks, "us-west-2")).async_endpoints()
    assert endpoint.network_isolated is True
    backend = LocalBackend(port=0)
    backend.endpoints, backend.aws_url = [endpoint], "http://127.0.0.1:1"
    env = backend._container_env()
    assert env["AWS_ENDPOINT_URL"] == ISOLATED_ENDPOINT_URL
    assert not {k for k in env if k.startswith("AWS_") and k != "AWS_ENDPOINT_URL"}


# ---------------------------------------------------------------- encryption


def test_every_key_rotates_and_trusts_services_only_under_conditions(synth):
    keys = list(_every(synth, "AWS::KMS::Key"))
    assert len(keys) >= 10
    for stack, logical_id, key in keys:
        assert key["Properties"]["EnableKeyRotation"] is True, (stack, logical_id)
        for statement in statements(key["Properties"]["KeyPolicy"]):
            principal = statement["Principal"]
            assert principal != "*" and principal.get("AWS") != "*", (stack, logical_id)
            if "Service" in principal:  # a service acts for this account's resources only
                assert statement.get("Condition"), (stack, logical_id, statement)


def test_every_queue_is_kms_encrypted_or_says_why_not(synth):
    queues = list(_every(synth, "AWS::SQS::Queue"))
    assert len(queues) >= 6
    for _stack, logical_id, queue in queues:
        props = queue["Properties"]
        if "KmsMasterKeyId" in props:
            assert render(props["KmsMasterKeyId"]).startswith("<StackKey"), logical_id
        else:
            assert props["SqsManagedSseEnabled"] is True, logical_id
            assert "no personal data" in _skips(queue)["CKV_AWS_27"], logical_id


def test_every_log_group_is_encrypted_with_its_stack_key(synth):
    groups = list(_every(synth, "AWS::Logs::LogGroup"))
    assert len(groups) >= 25
    for stack, logical_id, group in groups:
        assert render(group["Properties"]["KmsKeyId"]).startswith("<StackKey"), (stack, logical_id)
    for stack in {stack for stack, _, _ in groups}:
        (key,) = [k for k in synth.resources(stack, "AWS::KMS::Key") if k.startswith("StackKey")]
        policy = synth.resources(stack, "AWS::KMS::Key")[key]["Properties"]["KeyPolicy"]
        (logs,) = [s for s in statements(policy) if s.get("Sid") == "CloudWatchLogsOfThisAccount"]
        assert render(logs["Principal"]["Service"]) == "logs.us-west-2.amazonaws.com"
        context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        assert render(context).endswith(":log-group:*") and "<AWS::AccountId>" in render(context)


def test_every_table_is_under_a_customer_key(synth):
    tables = list(_every(synth, "AWS::DynamoDB::Table"))
    assert len(tables) == 7  # the five styling tables, the album table, live connections
    for _stack, logical_id, table in tables:
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS", logical_id
        assert "KMSMasterKeyId" in sse, logical_id
    (key,) = synth.resources("Tables", "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True


def test_album_buckets_embeddings_included_are_under_the_album_key(synth):
    buckets = synth.resources("Albums", "AWS::S3::Bucket")
    for name in ("Raw", "Derived", "Embeddings", "Exports"):
        (bucket,) = [b for k, b in buckets.items() if k.startswith(name)]
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms"
        assert default["KMSMasterKeyID"]["Fn::GetAtt"][0].startswith("Key"), name


def test_access_log_buckets_are_versioned_and_keep_old_versions_a_month(synth):
    found = 0
    for _stack, logical_id, bucket in _every(synth, "AWS::S3::Bucket"):
        props = bucket["Properties"]
        if "LoggingConfiguration" in props:
            continue  # a logged bucket; the log buckets themselves log nowhere
        found += 1
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        (rule,) = props["LifecycleConfiguration"]["Rules"]
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
        assert "loop" in _skips(bucket)["CKV_AWS_18"]
    assert found == 4  # styling, albums and training server access logs; the share distribution


# ---------------------------------------------------------------- concurrency


def _reserved(synth, construct_id: str) -> int | None:
    functions = synth.resources("Functions", "AWS::Lambda::Function")
    (fn,) = [f for k, f in functions.items() if k[:-8] == construct_id]
    return fn["Properties"].get("ReservedConcurrentExecutions")


def test_the_gpu_endpoints_callers_reserve_concurrency_sized_from_its_max_instances(
    synth, synth_overridden
):
    # cdk.context.json: 2 instances × a target backlog of 4 per instance.
    assert _reserved(synth, "FaceSwapFunction") == 2 * 4
    assert _reserved(synth, "FaceSwapCompletionFunction") == 2
    # endpoint_max_instances 5 (tests/unit/conftest.py OVERRIDES)
    assert _reserved(synth_overridden, "FaceSwapFunction") == 5 * 4
    assert _reserved(synth_overridden, "FaceSwapCompletionFunction") == 5
    _, target = _one(synth_overridden, "FaceChain", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["MaxCapacity"] == 5


def test_every_other_function_says_why_it_reserves_nothing(synth):
    for stack, logical_id, fn in _every(synth, "AWS::Lambda::Function"):
        if "ReservedConcurrentExecutions" in fn["Properties"]:
            assert logical_id.startswith(("FaceSwapFunction", "FaceSwapCompletionFunction"))
        else:
            assert len(_skips(fn).get("CKV_AWS_115", "")) > 40, (stack, logical_id)


# ---------------------------------------------------------------- checkov


def test_every_checkov_skip_names_a_check_and_a_reason(synth):
    skips = 0
    for stack in synth.stack_ids:
        for logical_id, resource in synth.template_json(stack)["Resources"].items():
            for check, reason in _skips(resource).items():
                skips += 1
                assert check.startswith("CKV_AWS_"), (stack, logical_id)
                assert len(reason) >= 40, (stack, logical_id, check, reason)
    assert skips >= 100


def test_skip_checkov_refuses_vague_reasons_and_keeps_one_reason_per_check():
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from stacks.nag import checkov_skips, skip_checkov

    queue = sqs.Queue(cdk.Stack(cdk.App(), "S"), "Q")
    with pytest.raises(ValueError, match="specific reason"):
        skip_checkov(queue, "CKV_AWS_27", "not needed")
    with pytest.raises(ValueError, match="check id"):
        skip_checkov(queue, "AwsSolutions-SQS3", "a long enough reason for the check")
    skip_checkov(queue, "CKV_AWS_27", "first reason, long enough to be read")
    skip_checkov(queue, "CKV_AWS_21", "another check on the same resource")
    skip_checkov(queue, "CKV_AWS_27", "second reason, long enough to be read")
    assert checkov_skips(queue.node.default_child) == [
        {"id": "CKV_AWS_21", "comment": "another check on the same resource"},
        {"id": "CKV_AWS_27", "comment": "second reason, long enough to be read"},
    ]


@pytest.mark.skipif(
    not CHECKOV.exists(),
    reason="checkov lives in .venv-iac, which `make iac-scan` creates (the CI workflow's step)",
)
def test_checkov_finds_no_failed_check_in_the_synthesized_app(synth, tmp_path):
    """`make iac-scan` over this synth (bundling skipped: the templates are the same), for a
    developer who has .venv-iac; the workflow's IaC scan step fails on any failed check."""
    outdir = tmp_path / "cdk.out"
    shutil.copytree(synth.outdir, outdir, ignore=shutil.ignore_patterns("asset.*"))
    done = subprocess.run(
        [
            *(str(CHECKOV), "-d", str(outdir), "--framework", "cloudformation"),
            *("--skip-download", "--quiet", "--compact", "-o", "json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(done.stdout)
    report = report if isinstance(report, dict) else report[0]
    failed = [
        f"{f['check_id']} {Path(f['file_path']).name} {f['resource']}"
        for f in report.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []
    assert report["summary"]["passed"] > 500 and report["summary"]["skipped"] > 100
    assert done.returncode == 0
