"""The image-build custom resource (trigger + status checker) and the build-events handler.

moto's CodeBuild starts builds and reports them SUCCEEDED; the states it cannot produce
(in progress, failed, timed out) come from botocore's Stubber on the same client: the AWS boundary.
"""

import json

import boto3
import build_events
import build_status
import build_trigger
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from common import aws
from style_backend.domain import builds

LOG_LINK = "https://console.aws.amazon.com/cloudwatch/home#logEvent:group=/aws/codebuild/p"


@pytest.fixture
def project():
    with mock_aws():
        role = boto3.client("iam").create_role(RoleName="build", AssumeRolePolicyDocument="{}")
        boto3.client("codebuild").create_project(
            name="facechain-image",
            source={"type": "S3", "location": "bucket/source.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_LARGE",
            },
            serviceRole=role["Role"]["Arn"],
        )
        yield "facechain-image"


def cr_event(request, tag="abc123", physical=None, old_tag=None):
    event = {
        "RequestType": request,
        "ResourceProperties": {"ProjectName": "facechain-image", "ImageTag": tag},
    }
    if physical:
        event["PhysicalResourceId"] = physical
    if old_tag:
        event["OldResourceProperties"] = {"ProjectName": "facechain-image", "ImageTag": old_tag}
    return event


def build_response(status, phase="BUILD"):
    return {
        "builds": [
            {
                "id": "facechain-image:42",
                "buildStatus": status,
                "currentPhase": phase,
                "logs": {"deepLink": LOG_LINK},
            }
        ]
    }


def test_create_starts_a_build_and_the_checker_waits_on_that_build(project):
    created = build_trigger.on_event(cr_event("Create"))
    build_id = created["PhysicalResourceId"]
    assert build_id.startswith("facechain-image:")
    assert created["Data"] == {"BuildId": build_id, "ImageTag": "abc123"}
    done = build_status.is_complete(cr_event("Create", physical=build_id))
    assert done == {"IsComplete": True, "Data": {"BuildId": build_id, "BuildStatus": "SUCCEEDED"}}


def test_the_tag_is_passed_to_the_build(project):
    with Stubber(aws.client("codebuild")) as stub:
        stub.add_response(
            "start_build",
            {"build": {"id": "facechain-image:7"}},
            {
                "projectName": "facechain-image",
                "environmentVariablesOverride": [
                    {"name": "IMAGE_TAG", "value": "newhash", "type": "PLAINTEXT"}
                ],
            },
        )
        out = build_trigger.on_event(cr_event("Update", "newhash", "facechain-image:1", "oldhash"))
    assert out["PhysicalResourceId"] == "facechain-image:7"  # a new build: a new physical id


def test_update_with_the_same_tag_starts_nothing(project):
    with Stubber(aws.client("codebuild")) as stub:  # no response queued: any call would fail
        out = build_trigger.on_event(cr_event("Update", "same", "facechain-image:1", "same"))
        stub.assert_no_pending_responses()
    assert out == {"PhysicalResourceId": "facechain-image:1"}


def test_delete_touches_nothing(project):
    with Stubber(aws.client("codebuild")):
        assert build_trigger.on_event(cr_event("Delete", physical="facechain-image:1")) == {
            "PhysicalResourceId": "facechain-image:1"
        }
        assert build_status.is_complete(cr_event("Delete", physical="facechain-image:1")) == {
            "IsComplete": True
        }


def test_in_progress_is_not_complete(project):
    with Stubber(aws.client("codebuild")) as stub:
        stub.add_response(
            "batch_get_builds", build_response("IN_PROGRESS"), {"ids": ["facechain-image:42"]}
        )
        assert build_status.is_complete(cr_event("Create", physical="facechain-image:42")) == {
            "IsComplete": False
        }


@pytest.mark.parametrize("status", ["FAILED", "FAULT", "STOPPED", "TIMED_OUT"])
def test_a_failed_build_fails_the_deployment_with_its_log_link(project, status):
    with Stubber(aws.client("codebuild")) as stub:
        stub.add_response("batch_get_builds", build_response(status, "POST_BUILD"))
        with pytest.raises(builds.BuildFailed) as failed:
            build_status.is_complete(cr_event("Create", physical="facechain-image:42"))
    assert status in str(failed.value)
    assert "POST_BUILD" in str(failed.value)
    assert LOG_LINK in str(failed.value)


def test_an_unknown_build_fails(project):
    with pytest.raises(builds.BuildFailed, match="not found"):
        build_status.is_complete(cr_event("Create", physical="facechain-image:nope"))


def state_change(status):
    return {
        "detail-type": "CodeBuild Build State Change",
        "source": "aws.codebuild",
        "detail": {
            "build-status": status,
            "project-name": "facechain-image",
            "build-id": "arn:aws:codebuild:us-west-2:123456789012:build/facechain-image:42",
            "additional-information": {"logs": {"deep-link": LOG_LINK}},
        },
    }


@pytest.fixture
def operators(monkeypatch):
    with mock_aws():
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        topic = sns.create_topic(Name="operators")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"])
        monkeypatch.setenv("OPERATIONS_TOPIC_ARN", topic)

        def received():
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            return [json.loads(m["Body"]) for m in got.get("Messages", [])]

        yield received


@pytest.mark.parametrize(
    ("status", "metric"),
    [("FAILED", "BuildFailed"), ("SUCCEEDED", "BuildSucceeded"), ("IN_PROGRESS", "BuildStarted")],
)
def test_state_changes_reach_operators_and_the_metric(operators, capsys, status, metric):
    build_events.handler(state_change(status))
    (note,) = operators()
    assert note["Subject"] == f"FaceChain image build {status}: facechain-image"
    assert json.loads(note["Message"])["logs"] == LOG_LINK
    emf = next(
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    )
    assert emf[metric] == [1.0]  # Powertools' EMF: values as a list
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "StyleBackend"
    assert directive["Metrics"] == [{"Name": metric, "Unit": "Count"}]
    assert directive["Dimensions"] == [["Project"]]
    assert emf["Project"] == "facechain-image"


@pytest.mark.parametrize(
    "event",
    [{}, {"detail-type": "Something else"}, {"detail-type": "CodeBuild Build State Change"}],
)
def test_other_events_are_dropped(operators, event):
    build_events.handler(event)
    assert operators() == []
