"""Intrinsic functions resolved to local names, on hand-written template fragments."""

from __future__ import annotations

import pytest

from local.cfn import ACCOUNT, Resolver, StackTemplate, Unresolvable

STORAGE = {
    "Resources": {
        "Bucket1": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-bucket"}},
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
    },
    "Outputs": {
        "BucketOut": {"Value": {"Ref": "Bucket1"}, "Export": {"Name": "Storage:Bucket"}},
    },
    "Parameters": {"Version": {"Type": "String", "Default": "7"}},
}
USERS = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(
        [StackTemplate("Storage", STORAGE), StackTemplate("Users", USERS)],
        "eu-west-1",
        "http://q",
    )


def test_names_are_derived_or_taken_from_the_template(resolver):
    assert resolver.resolve({"Ref": "Bucket1"}, "Storage") == "storage-bucket1"
    assert resolver.resolve({"Ref": "Named"}, "Storage") == "my-bucket"
    assert resolver.resolve({"Fn::GetAtt": ["Named", "Arn"]}, "Storage") == "arn:aws:s3:::my-bucket"
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:Storage-Topic"
    assert resolver.resolve({"Ref": "Topic"}, "Storage") == topic
    assert resolver.resolve({"Ref": "Version"}, "Storage") == "7"


def test_join_sub_select_split_and_imports(resolver):
    join = {"Fn::Join": ["", ["s3://", {"Ref": "Named"}, "/out"]]}
    assert resolver.resolve(join, "Storage") == "s3://my-bucket/out"
    sub = {"Fn::Sub": ["${B}/${AWS::Region}/${Named}/${X}", {"X": "x", "B": {"Ref": "Named"}}]}
    assert resolver.resolve(sub, "Storage") == "my-bucket/eu-west-1/my-bucket/x"
    pick = {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}
    assert resolver.resolve(pick, "Storage") == "b"
    assert resolver.resolve({"Fn::ImportValue": "Storage:Bucket"}, "Users") == "storage-bucket1"
    nested = {"Env": {"A": [{"Ref": "AWS::AccountId"}]}}
    assert resolver.resolve(nested, "Users") == {"Env": {"A": [ACCOUNT]}}


def test_ids_only_the_service_knows_are_bound_once_created(resolver):
    with pytest.raises(Unresolvable, match="not created yet"):
        resolver.resolve({"Ref": "Pool"}, "Storage")
    resolver.bind("Storage", "Pool", "eu-west-1_abc", Arn="arn:pool")
    assert resolver.resolve({"Ref": "Pool"}, "Storage") == "eu-west-1_abc"
    assert resolver.resolve({"Fn::GetAtt": ["Pool", "Arn"]}, "Storage") == "arn:pool"


def test_every_intrinsic_is_dispatched_and_other_keys_are_properties(resolver):
    assert resolver.resolve({"Fn::GetAtt": "Named.Arn"}, "Storage") == "arn:aws:s3:::my-bucket"
    assert resolver.resolve({"Ref": "AWS::StackName"}, "Users") == "Users"
    assert resolver.resolve({"Fn::Sub": "${!Literal}-${AWS::Partition}"}, "Users") == (
        "${!Literal}-aws"
    )
    # A one-key property whose name only starts like an intrinsic is a property, not a call.
    assert resolver.resolve({"RefreshTokenValidity": 30}, "Users") == {"RefreshTokenValidity": 30}
    assert resolver.resolve({"Fn": {"Ref": "Named"}}, "Storage") == {"Fn": "my-bucket"}


def test_what_cannot_be_resolved_is_named(resolver):
    with pytest.raises(Unresolvable, match="Storage: no stack exports 'Nope'"):
        resolver.resolve({"Fn::ImportValue": "Nope"}, "Storage")
    with pytest.raises(Unresolvable, match=r"Fn::GetAtt Topic\.Nope"):
        resolver.resolve({"Fn::GetAtt": ["Topic", "Nope"]}, "Storage")
    with pytest.raises(Unresolvable, match="Fn::FindInMap"):
        resolver.resolve({"Fn::FindInMap": ["M", "a", "b"]}, "Storage")
    with pytest.raises(Unresolvable, match="no resource 'Ghost'"):
        resolver.resolve({"Ref": "Ghost"}, "Storage")


def test_a_lambda_arn_names_its_function(resolver):
    arn = resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}, "Users")
    assert arn == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:Users-Fn"
    assert resolver.arn_owner(arn) == ("Users", "Fn")
    assert resolver.arn_owner("arn:aws:lambda:eu-west-1:1:function:other") is None
