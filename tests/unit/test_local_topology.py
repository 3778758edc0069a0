"""What the local runtime reads from the templates besides storage and functions, on a
hand-written template: queues, event source mappings, state machines, CloudFront and custom
resources, all through `Topology`."""

from __future__ import annotations

import json

import pytest

from local.cfn import ACCOUNT, Resolver, StackTemplate
from local.topology import FunctionRef, Topology

TEMPLATE = {
    "Resources": {
        "Work": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 30,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["Dead", "Arn"]},
                    "maxReceiveCount": 3,
                },
            },
        },
        "Dead": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12"}},
        "NodeProvider": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "nodejs20.x"}},
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": {"Fn::GetAtt": ["Work", "Arn"]},
                "FunctionName": {"Ref": "Consumer"},
                "BatchSize": 5,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        },
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "DefinitionString": {
                    "Fn::Join": ["", ['{"Comment": "', {"Fn::GetAtt": ["Dead", "QueueName"]}, '"}']]
                }
            },
        },
        "Keys": {
            "Type": "Custom::SigningKeys",
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Consumer", "Arn"]},
                "Queue": {"Ref": "Dead"},
            },
        },
        "ByNode": {
            "Type": "AWS::CloudFormation::CustomResource",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["NodeProvider", "Arn"]}},
        },
        "Notes": {
            "Type": "Custom::S3BucketNotifications",
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Consumer", "Arn"]},
                "BucketName": "photos",
                "NotificationConfiguration": {
                    "QueueConfigurations": [
                        {
                            "QueueArn": {"Fn::GetAtt": ["Work", "Arn"]},
                            "Events": ["s3:ObjectCreated:*"],
                            "Id": "dropped",
                        }
                    ]
                },
            },
        },
        "PublicKey": {
            "Type": "AWS::CloudFront::PublicKey",
            "Properties": {"PublicKeyConfig": {"EncodedKey": {"Fn::GetAtt": ["Keys", "Pem"]}}},
        },
        "Group": {
            "Type": "AWS::CloudFront::KeyGroup",
            "Properties": {"KeyGroupConfig": {"Items": [{"Ref": "PublicKey"}]}},
        },
        "Cdn": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Origins": [
                        {"DomainName": "web.example", "CustomOriginConfig": {}},
                        {
                            "DomainName": "exports.s3.eu-west-1.amazonaws.com",
                            "OriginPath": "/shared",
                            "S3OriginConfig": {},
                        },
                    ],
                    "DefaultCacheBehavior": {"TrustedKeyGroups": [{"Ref": "Group"}]},
                }
            },
        },
    }
}


@pytest.fixture
def topology() -> Topology:
    stacks = [StackTemplate("Pipes", TEMPLATE)]
    return Topology(stacks, Resolver(stacks, "eu-west-1", "http://q"))


def test_queues_come_dead_letter_queues_first_with_their_attributes(topology):
    queues = topology.queues()
    assert [q.logical_id for q in queues] == ["Dead", "Work"]
    redrive = json.loads(queues[1].attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:Pipes-Dead"
    assert queues[1].attributes["VisibilityTimeout"] == "30"


def test_an_sqs_mapping_names_its_queue_by_arn(topology):
    (mapping,) = topology.event_source_mappings()
    assert mapping.queue_arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:Pipes-Work"
    assert mapping.queue_name == "Pipes-Work"
    assert mapping.function == FunctionRef("Pipes", "Consumer")
    assert mapping.batch_size == 5
    assert mapping.reports_item_failures


def test_notifications_to_queues_and_state_machines_are_resolved(topology):
    queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:Pipes-Work"
    assert topology.s3_queue_notifications() == {
        "photos": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
    }
    (machine,) = topology.state_machines()
    assert (machine.name, machine.definition) == ("Pipes-Machine", '{"Comment": "Pipes-Dead"}')


def test_only_custom_resources_of_python_functions_run(topology):
    (resource,) = topology.custom_resources()
    assert (resource.logical_id, resource.type) == ("Keys", "Custom::SigningKeys")
    assert resource.function == FunctionRef("Pipes", "Consumer")
    assert resource.properties["Queue"] == f"http://q/{ACCOUNT}/Pipes-Dead"  # resolved


def test_a_distribution_reads_its_s3_origin_and_its_key_group_once_bound(topology):
    (cdn,) = topology.distributions()
    assert (cdn.bucket, cdn.origin_path) == ("exports", "/shared")
    assert cdn.key_group == ("Pipes", "Group")
    assert cdn.methods == ("GET", "HEAD")
    topology.resolver.bind("Pipes", "Keys", "keys-1", Pem="PEM")
    assert topology.key_group_keys("Pipes", "Group") == {"Pipes-PublicKey": "PEM"}
