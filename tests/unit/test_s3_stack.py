"""Base bucket: private, encrypted, TLS-only, logged, temporary prefixes expire."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.unit.conftest import as_list


def _base_bucket(synth) -> dict:
    (bucket,) = [
        b
        for logical_id, b in synth.resources("Storage", "AWS::S3::Bucket").items()
        if logical_id.startswith("BaseBucket")
    ]
    return bucket["Properties"]


def test_two_buckets_both_private_and_encrypted(synth):
    template = synth.template("Storage")
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    )


def test_every_bucket_policy_denies_plain_http(synth):
    policies = synth.resources("Storage", "AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        denies = [
            s
            for s in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
            if s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies, policy


def test_base_bucket_logs_to_the_access_log_bucket(synth):
    logging = _base_bucket(synth)["LoggingConfiguration"]
    assert logging["DestinationBucketName"]["Ref"].startswith("AccessLogsBucket")


def test_temporary_prefixes_expire_with_the_process_ttl(synth):
    rules = {r["Id"]: r for r in _base_bucket(synth)["LifecycleConfiguration"]["Rules"]}
    for prefix in ("uploads/", "crops/", "inference/"):
        (rule,) = [r for r in rules.values() if r.get("Prefix") == prefix]
        assert rule["ExpirationInDays"] == 30
    assert not [r for r in rules.values() if r.get("Prefix") in ("results/", "base/")]
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }


def test_browser_uploads_are_allowed_by_cors(synth):
    (rule,) = _base_bucket(synth)["CorsConfiguration"]["CorsRules"]
    assert {"POST", "GET"} <= set(rule["AllowedMethods"])


def test_bucket_name_and_ttl_come_from_context(synth, synth_overridden):
    assert "BucketName" not in _base_bucket(synth)  # CloudFormation picks a unique name
    props = _base_bucket(synth_overridden)
    assert props["BucketName"] == "style-test-base-bucket"
    expirations = {
        r.get("Prefix"): r.get("ExpirationInDays") for r in props["LifecycleConfiguration"]["Rules"]
    }
    assert expirations["uploads/"] == 7


def test_bucket_is_exported_by_name_and_output(synth):
    template = synth.template("Storage")
    template.has_output("BucketName", {"Value": {"Ref": Match.string_like_regexp("^BaseBucket")}})
    outputs = synth.template_json("Storage")["Outputs"]
    names = {o.get("Export", {}).get("Name") for o in outputs.values()}
    assert {"style-s3-BaseBucketArn", "style-s3-BaseBucketName"} <= names
