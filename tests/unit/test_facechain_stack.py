"""FaceChain: image build custom resource, async endpoint, topics, scale to zero."""

from __future__ import annotations

import re

from tests.unit.conftest import as_list, render, statements


def _one(synth, resource_type: str, stack: str = "FaceChain") -> tuple[str, dict]:
    (item,) = synth.resources(stack, resource_type).items()
    return item


def _image_tag(synth) -> str:
    (project,) = synth.resources("ContainerBuild", "AWS::CodeBuild::Project").values()
    variables = project["Properties"]["Environment"]["EnvironmentVariables"]
    return next(v["Value"] for v in variables if v["Name"] == "IMAGE_TAG")


def test_model_image_is_the_built_tag_and_waits_for_the_build(synth):
    build_id, build = _one(synth, "Custom::FaceChainImageBuild")
    assert build["Properties"]["ImageTag"] == _image_tag(synth)
    assert "import:" in render(build["Properties"]["ProjectName"])
    _, model = _one(synth, "AWS::SageMaker::Model")
    image = render(model["Properties"]["PrimaryContainer"]["Image"])
    assert image.endswith(f":{_image_tag(synth)}")
    assert build_id in model["DependsOn"]
    env = model["Properties"]["PrimaryContainer"]["Environment"]
    assert env["SWAP_ENGINE"] == "facechain"


def test_provider_waits_on_the_status_function_for_an_hour(synth):
    functions = synth.resources("FaceChain", "AWS::Lambda::Function")
    handlers = {k: f["Properties"].get("Handler") for k, f in functions.items()}
    assert "build_trigger.on_event" in handlers.values()
    assert "build_status.is_complete" in handlers.values()
    assert "build_events.handler" in handlers.values()
    _, machine = _one(synth, "AWS::StepFunctions::StateMachine")
    definition = render(machine["Properties"]["DefinitionString"])
    assert '"IntervalSeconds":30' in definition
    assert '"MaxAttempts":120' in definition  # 1 hour / 30 s
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"


def test_endpoint_config_is_async_with_both_topics_and_s3_paths(synth):
    _, config = _one(synth, "AWS::SageMaker::EndpointConfig")
    props = config["Properties"]
    (variant,) = props["ProductionVariants"]
    assert variant["InstanceType"] == "ml.g5.xlarge"
    output = props["AsyncInferenceConfig"]["OutputConfig"]
    assert render(output["S3OutputPath"]) == "s3://import:style-s3-BaseBucketName/inference/out/"
    assert (
        render(output["S3FailurePath"]) == "s3://import:style-s3-BaseBucketName/inference/failed/"
    )
    topics = output["NotificationConfig"]
    assert render(topics["SuccessTopic"]).startswith("<InferenceSuccessTopic")
    assert render(topics["ErrorTopic"]).startswith("<InferenceErrorTopic")
    for _, topic in synth.resources("FaceChain", "AWS::SNS::Topic").items():
        assert "KmsMasterKeyId" in topic["Properties"]
    _, endpoint = _one(synth, "AWS::SageMaker::Endpoint")
    assert endpoint["Properties"]["EndpointName"] == "style-facechain"


def test_instance_type_and_max_instances_come_from_context(synth_overridden):
    _, config = _one(synth_overridden, "AWS::SageMaker::EndpointConfig")
    assert config["Properties"]["ProductionVariants"][0]["InstanceType"] == "ml.g4dn.2xlarge"
    _, target = _one(synth_overridden, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["MaxCapacity"] == 5


def test_autoscaling_goes_to_zero_and_scales_out_from_zero(synth):
    _, target = _one(synth, "AWS::ApplicationAutoScaling::ScalableTarget")
    props = target["Properties"]
    assert props["MinCapacity"] == 0
    assert props["MaxCapacity"] == 2
    assert props["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert render(props["ResourceId"]) == "endpoint/<AsyncEndpoint.EndpointName>/variant/AllTraffic"
    policies = synth.resources("FaceChain", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    by_type = {p["Properties"]["PolicyType"]: p["Properties"] for p in policies}
    tracking = by_type["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]
    assert (
        tracking["CustomizedMetricSpecification"]["MetricName"]
        == "ApproximateBacklogSizePerInstance"
    )
    step = by_type["StepScaling"]["StepScalingPolicyConfiguration"]
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    alarms = synth.resources("FaceChain", "AWS::CloudWatch::Alarm").values()
    assert any(a["Properties"]["MetricName"] == "HasBacklogWithoutCapacity" for a in alarms)


def test_execution_role_reads_and_writes_only_inference_prefixes(synth):
    roles = synth.resources("FaceChain", "AWS::IAM::Role")
    role = next(r for k, r in roles.items() if k.startswith("EndpointExecutionRole"))
    granted = {}
    for policy in role["Properties"]["Policies"]:
        for s in statements(policy["PolicyDocument"]):
            for action in as_list(s["Action"]):
                granted.setdefault(action, set()).update(render(r) for r in as_list(s["Resource"]))
    bucket = "import:style-s3-BaseBucketArn"
    # The request only: it carries the crop and the style image (the container is isolated).
    assert granted["s3:GetObject"] == {f"{bucket}/inference/in/*"}
    assert "s3:ListBucket" not in granted
    assert granted["s3:PutObject"] == {
        f"{bucket}/{p}*" for p in ("inference/out/", "inference/failed/")
    }
    assert len(granted["sns:Publish"]) == 2
    assert not [a for a in granted if a.endswith("*")]


def test_build_functions_touch_only_their_project_and_topic(synth):
    policies = synth.resources("FaceChain", "AWS::IAM::Policy")
    actions = {}
    for logical_id, policy in policies.items():
        for s in statements(policy["Properties"]["PolicyDocument"]):
            for a in as_list(s["Action"]):
                actions.setdefault(a, set()).add(
                    (logical_id.split("Role")[0], render(s["Resource"]))
                )
    (start,) = actions["codebuild:StartBuild"]
    assert start[0] == "BuildTriggerFunction" and "FaceChainImageBuild" in start[1]
    (read,) = actions["codebuild:BatchGetBuilds"]
    assert read[0] == "BuildStatusFunction"
    (publish,) = actions["sns:Publish"]
    assert publish[0] == "BuildEventsFunction" and "OperationsTopic" in publish[1]


def test_build_state_changes_reach_the_events_function_with_a_dlq(synth):
    _, rule = _one(synth, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.codebuild"]
    assert pattern["detail-type"] == ["CodeBuild Build State Change"]
    assert "FaceChainImageBuild" in render(pattern["detail"]["project-name"][0])
    (target,) = rule["Properties"]["Targets"]
    assert render(target["Arn"]).startswith("<BuildEventsFunction")
    assert render(target["DeadLetterConfig"]["Arn"]).startswith("<BuildEventsDeadLetterQueue")
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    functions = synth.resources("FaceChain", "AWS::Lambda::Function")
    events_fn = next(k for k in functions if re.fullmatch(r"BuildEventsFunction[0-9A-F]{8}", k))
    env = functions[events_fn]["Properties"]["Environment"]["Variables"]
    assert set(env) == {"BUILD_PROJECT_NAME", "OPERATIONS_TOPIC_ARN", "POWERTOOLS_SERVICE_NAME"}
