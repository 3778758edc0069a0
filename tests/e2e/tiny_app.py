"""A small CDK app of the tests' own, shaped like Style Backend's (bucket notifications, a table
with an index and TTL, a topic subscription, a Cognito-authorized REST route, an async endpoint),
so the local runtime's template reading and event wiring are tested without the real stacks."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs

# The functions of this app: copy uploads, record notifications, read records; `flaky` raises
# for keys under `fail/` so retries and the DLQ can be observed.
HANDLERS = """
import json, os, urllib.parse
import boto3

def copy(event, context):
    s3 = boto3.client("s3")
    for record in event["Records"]:
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        if key.startswith("in/fail"):
            raise RuntimeError("asked to fail")
        body = s3.get_object(Bucket=os.environ["BUCKET_NAME"], Key=key)["Body"].read()
        s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key="out/" + key[3:], Body=body)
        message = json.dumps({"key": key})
        boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Message=message)

def record(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    for r in event["Records"]:
        message = r["Sns"]["Message"]
        body = json.loads(message)
        pk = body.get("key") or body["inferenceId"]
        table.put_item(Item={"pk": pk, "message": message, "source": r["EventSource"]})

def read(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    item = table.get_item(Key={"pk": event["pathParameters"]["id"]}).get("Item")
    claims = event["requestContext"]["authorizer"]["claims"]
    return {"statusCode": 200 if item else 404,
            "body": json.dumps({"item": item, "sub": claims["sub"]})}
"""


def write_code(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_handlers.py").write_text(HANDLERS)
    return folder


def builder(code_dir: Path):
    def build_app(app: cdk.App) -> cdk.App:
        data = cdk.Stack(app, "TinyData")
        table = ddb.Table(
            data,
            "Records",
            partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="ttl",
        )
        table.add_global_secondary_index(
            index_name="bySource",
            partition_key=ddb.Attribute(name="source", type=ddb.AttributeType.STRING),
        )
        st = cdk.Stack(app, "TinyFns")
        bucket = s3.Bucket(
            st,
            "Base",
            cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.POST], allowed_origins=["*"])],
        )
        topic = sns.Topic(st, "Done")
        code = lambda_.Code.from_asset(str(code_dir))
        env = {"BUCKET_NAME": bucket.bucket_name, "TABLE_NAME": table.table_name}
        copy = lambda_.Function(
            st,
            "Copy",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="tiny_handlers.copy",
            code=code,
            environment={**env, "TOPIC_ARN": topic.topic_arn},
            timeout=cdk.Duration.seconds(10),
        )
        lambda_.EventInvokeConfig(st, "CopyRetries", function=copy, retry_attempts=1)
        record = lambda_.Function(
            st,
            "Record",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="tiny_handlers.record",
            code=code,
            environment=env,
        )
        read = lambda_.Function(
            st,
            "Read",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="tiny_handlers.read",
            code=code,
            environment=env,
        )
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(copy),
            s3.NotificationKeyFilter(prefix="in/"),
        )
        topic.add_subscription(subs.LambdaSubscription(record))
        failures = sns.Topic(st, "Failures")
        failures.add_subscription(subs.LambdaSubscription(record))
        pool = cognito.UserPool(
            st,
            "Users",
            sign_in_aliases=cognito.SignInAliases(email=True),
            self_sign_up_enabled=True,
        )
        pool.add_client("Web", auth_flows=cognito.AuthFlow(user_srp=True))
        api = apigw.RestApi(st, "Api")
        authorizer = apigw.CognitoUserPoolsAuthorizer(st, "Auth", cognito_user_pools=[pool])
        api.root.add_resource("records").add_resource("{id}").add_method(
            "GET",
            apigw.LambdaIntegration(read),
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
        )
        config = sagemaker.CfnEndpointConfig(
            st,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="main",
                    model_name="tiny-model",
                    initial_instance_count=1,
                    instance_type="ml.g5.xlarge",
                )
            ],
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=f"s3://{bucket.bucket_name}/inference/out",
                    s3_failure_path=f"s3://{bucket.bucket_name}/inference/failed",
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=topic.topic_arn, error_topic=failures.topic_arn
                    ),
                )
            ),
        )
        sagemaker.CfnEndpoint(
            st,
            "Endpoint",
            endpoint_config_name=config.attr_endpoint_config_name,
            endpoint_name="tiny-endpoint",
        )
        return app

    return build_app
