"""FaceFlow sharing in the album stack: CloudFront with origin access control and a key group,
the signing keys' custom resources and secrets, SES, the export queue and the functions' grants."""

from __future__ import annotations

import json

from faceflow.domain.share_mail import TEMPLATE
from stacks.albums.sharing import EXPORT_ATTEMPTS, EXPORT_TIMEOUT_S
from tests.unit.conftest import as_list, render, statements

STACK = "Albums"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed policy


def _one(synth, kind: str, stack: str = STACK) -> tuple[str, dict]:
    (found,) = synth.resources(stack, kind).items()
    return found[0], found[1]["Properties"]


def _function(synth, prefix: str, stack: str = STACK) -> dict:
    (fn,) = [
        f["Properties"]
        for k, f in synth.resources(stack, "AWS::Lambda::Function").items()
        if k.startswith(prefix)
    ]
    return fn


def _grants(synth, prefix: str, stack: str = STACK) -> list[dict]:
    role = _function(synth, prefix, stack)["Role"]["Fn::GetAtt"][0]
    return [
        s
        for p in synth.resources(stack, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in statements(p["Properties"]["PolicyDocument"])
    ]


def _actions(synth, prefix: str) -> set[str]:
    return {a for s in _grants(synth, prefix) for a in as_list(s["Action"])}


def test_the_distribution_serves_the_exports_bucket_signed_only_uncached(synth):
    _, props = _one(synth, "AWS::CloudFront::Distribution")
    config = props["DistributionConfig"]
    (origin,) = config["Origins"]
    assert render(origin["DomainName"]).startswith("<Exports")
    oac, _ = _one(synth, "AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac, "Id"]}
    behaviour = config["DefaultCacheBehavior"]
    group, _ = _one(synth, "AWS::CloudFront::KeyGroup")
    assert behaviour["TrustedKeyGroups"] == [{"Ref": group}]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == CACHING_DISABLED  # revoked objects vanish at once
    assert "Bucket" in config["Logging"]
    exports_policy = [
        p["Properties"]["PolicyDocument"]
        for k, p in synth.resources(STACK, "AWS::S3::BucketPolicy").items()
        if k.startswith("ExportsPolicy")
    ]
    (cloudfront,) = [
        s
        for s in statements(exports_policy[0])
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert cloudfront["Action"] == "s3:GetObject"
    source = render(cloudfront["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source.endswith(
        ":distribution/<"
        + next(iter(synth.resources(STACK, "AWS::CloudFront::Distribution")))
        + ">"
    )


def test_each_key_generation_is_a_secret_a_custom_resource_and_a_trusted_public_key(synth):
    (made,) = synth.resources(STACK, "Custom::ShareSigningKey").items()
    logical, resource = made
    service = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    assert service.startswith("ShareSigningKeyFunction")
    assert resource["Properties"]["Generation"] == "1"
    secret = resource["Properties"]["SecretId"]["Ref"]
    secrets = synth.resources(STACK, "AWS::SecretsManager::Secret")
    assert render(secrets[secret]["Properties"]["KmsKeyId"]).startswith("<Key")
    key_id, key = _one(synth, "AWS::CloudFront::PublicKey")
    assert key["PublicKeyConfig"]["EncodedKey"] == {"Fn::GetAtt": [logical, "PublicKey"]}
    _, group = _one(synth, "AWS::CloudFront::KeyGroup")
    assert group["KeyGroupConfig"]["Items"] == [{"Ref": key_id}]
    # The signers sign with that generation's key and id.
    for fn in ("SharesApiFunction", "ShareExportFunction"):
        env = _function(synth, fn)["Environment"]["Variables"]
        assert env["SHARE_KEY_PAIR_ID"] == {"Ref": key_id}
        assert env["SHARE_SIGNING_SECRET"] == {"Ref": secret}
    # No private key in any template: the custom resource makes it at deploy time.
    assert "PRIVATE KEY" not in json.dumps(synth.template_json(STACK))


def test_a_rotation_trusts_both_generations_and_signs_with_the_newest(synth_overridden):
    keys = synth_overridden.resources(STACK, "AWS::CloudFront::PublicKey")
    assert len(keys) == 2
    ((_, group),) = synth_overridden.resources(STACK, "AWS::CloudFront::KeyGroup").items()
    assert sorted(i["Ref"] for i in group["Properties"]["KeyGroupConfig"]["Items"]) == sorted(keys)
    made = synth_overridden.resources(STACK, "Custom::ShareSigningKey")
    newest = made["ShareSigningKey2"]["Properties"]["SecretId"]
    env = _function(synth_overridden, "ShareExportFunction")["Environment"]["Variables"]
    assert env["SHARE_SIGNING_SECRET"] == newest
    (newest_key,) = [
        k
        for k, v in keys.items()
        if v["Properties"]["PublicKeyConfig"]["EncodedKey"]["Fn::GetAtt"][0] == "ShareSigningKey2"
    ]
    assert env["SHARE_KEY_PAIR_ID"] == {"Ref": newest_key}


def test_the_share_email_is_one_ses_template_from_the_domain_and_a_verified_sender(synth):
    _, template = _one(synth, "AWS::SES::Template")
    assert {k: template["Template"][k] for k in TEMPLATE} == TEMPLATE
    _, identity = _one(synth, "AWS::SES::EmailIdentity")
    env = _function(synth, "ShareExportFunction")["Environment"]["Variables"]
    assert env["SHARE_SENDER"] == identity["EmailIdentity"]
    assert env["SHARE_TEMPLATE"] == template["Template"]["TemplateName"]
    (send,) = [
        s for s in _grants(synth, "ShareExportFunction") if s.get("Sid") == "SendShareEmails"
    ]
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": identity["EmailIdentity"]}}


def test_export_requests_queue_with_a_dead_letter_queue_and_the_exporter_knows_the_attempts(synth):
    (mapping,) = [
        m["Properties"]
        for m in synth.resources(STACK, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"]["Ref"].startswith("ShareExportFunction")
    ]
    assert mapping["BatchSize"] == 1
    queue = synth.resources(STACK, "AWS::SQS::Queue")[mapping["EventSourceArn"]["Fn::GetAtt"][0]]
    props = queue["Properties"]
    assert props["RedrivePolicy"]["maxReceiveCount"] == EXPORT_ATTEMPTS
    assert props["VisibilityTimeout"] >= 6 * EXPORT_TIMEOUT_S
    fn = _function(synth, "ShareExportFunction")
    assert fn["Timeout"] == EXPORT_TIMEOUT_S
    assert fn["Environment"]["Variables"]["SHARE_EXPORT_ATTEMPTS"] == str(EXPORT_ATTEMPTS)
    dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    alarms = [
        a["Properties"]
        for a in synth.resources(STACK, "AWS::CloudWatch::Alarm").values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}
        in a["Properties"]["Dimensions"]
    ]
    assert len(alarms) == 1 and alarms[0]["AlarmActions"]


def test_each_sharing_function_gets_only_what_its_code_does(synth):
    api = _actions(synth, "SharesApiFunction")
    assert {"sqs:SendMessage", "secretsmanager:GetSecretValue", "s3:DeleteObject"} <= api
    assert not {"s3:PutObject", "ses:SendTemplatedEmail", "dynamodb:DeleteItem"} & api
    exporter = _actions(synth, "ShareExportFunction")
    assert {"s3:PutObject", "ses:SendTemplatedEmail", "sqs:ReceiveMessage"} <= exporter
    assert not {"dynamodb:PutItem", "dynamodb:DeleteItem", "sqs:SendMessage"} & exporter
    writes = [
        s for s in _grants(synth, "ShareExportFunction") if "s3:PutObject" in as_list(s["Action"])
    ]
    assert all(render(r).startswith("<Exports") for s in writes for r in as_list(s["Resource"]))
    keys = _actions(synth, "ShareSigningKeyFunction")
    assert {a for a in keys if not a.startswith(("logs:", "xray:", "kms:"))} == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
    }


def test_the_share_routes_are_on_the_rest_api_behind_cognito(synth):
    methods = [
        m["Properties"]
        for m in synth.resources("Api", "AWS::ApiGateway::Method").values()
        if "SharesApiFunction" in render(m["Properties"].get("Integration", {}).get("Uri", ""))
    ]
    assert sorted(m["HttpMethod"] for m in methods) == ["DELETE", "GET", "GET", "POST", "POST"]
    assert all(m["AuthorizationType"] == "COGNITO_USER_POOLS" for m in methods)


def test_the_export_queues_use_the_stack_key_which_the_share_api_may_encrypt_with(synth):
    queues = synth.resources(STACK, "AWS::SQS::Queue")
    share_queues = {k: q["Properties"] for k, q in queues.items() if k.startswith("ShareExport")}
    assert len(share_queues) == 2  # the queue and its dead-letter queue
    keys = {render(q["KmsMasterKeyId"]) for q in share_queues.values()}
    assert len(keys) == 1 and keys.pop().startswith("<StackKey")
    (queue,) = [k for k in share_queues if not k.startswith("ShareExportDeadLetter")]
    sent = {s.get("Sid"): s for s in _grants(synth, "SharesApiFunction")}
    assert render(sent["RequestExports"]["Resource"]) == f"<{queue}.Arn>"
    assert render(sent["EncryptExportRequests"]["Resource"]).startswith("<StackKey")


def test_checkov_findings_the_design_accepts_are_skipped_with_their_reason(synth):
    skipped = {
        k: {s["id"] for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])}
        for k, r in synth.template_json(STACK)["Resources"].items()
        if k.startswith(("ShareDistribution", "ShareDistributionLogs"))
    }
    (distribution,) = [
        k
        for k in skipped
        if synth.template_json(STACK)["Resources"][k]["Type"] == "AWS::CloudFront::Distribution"
    ]
    assert skipped[distribution] == {"CKV_AWS_68", "CKV_AWS_174"}  # no WAF, default certificate
    (logs,) = [k for k in skipped if k.startswith("ShareDistributionLogs") and skipped[k]]
    assert skipped[logs] == {"CKV_AWS_18"}  # it is versioned (an access log bucket)
