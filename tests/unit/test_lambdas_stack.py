"""Functions: handlers, environment, triggers and permissions exactly as docs/architecture.md."""

from __future__ import annotations

import hashlib
import re

import pytest

from stacks.shared.bundling import layer_models
from tests.fresh_python import assert_runs, blocking, importing
from tests.unit.conftest import as_list, render, statements

P, U, D, H, B, A = (
    "ProcessTable",
    "UserAgreementTable",
    "DisplayTable",
    "DisplayHistoryTable",
    "BaseResourceTable",
    "UserAgreementTable",
)
ERASE = ("dynamodb:Query", "dynamodb:BatchWriteItem")
# The tables' customer key, only through DynamoDB (kms:ViaService): reads decrypt, writes also
# encrypt. The stack key: what Lambda needs to put a failed event on an encrypted queue.
TABLES_KEY_READ = (("kms:Decrypt", "kms:DescribeKey"), "TablesKey")
TABLES_KEY = (("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"), "TablesKey")
FAILED_EVENTS_KEY = (("kms:Decrypt", "kms:GenerateDataKey"), "StackKey")


def _grants(*pairs: tuple[str | tuple[str, ...], str | tuple[str, ...]]) -> set[tuple[str, str]]:
    found = set()
    for actions, resources in pairs:
        for action in (actions,) if isinstance(actions, str) else actions:
            for resource in (resources,) if isinstance(resources, str) else resources:
                found.add((action, resource))
    return found


# The user erasure also erases albums (stacks/albums grants it, faceflow.storage.albums does it).
ALBUM_ENV = (
    "ALBUM_TABLE",
    *(f"ALBUM_{b.upper()}_BUCKET" for b in ("raw", "derived", "embeddings", "exports")),
)
_ALBUM_BUCKETS = tuple(f"albums/{b}" for b in ("Raw", "Derived", "Embeddings", "Exports"))
ALBUM_ERASURE = (
    (("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"), "albums/Key"),
    (
        ("dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"),
        "albums/Table",
    ),
    (
        ("s3:AbortMultipartUpload", "s3:DeleteObject"),
        # and the uploads no photo claimed yet (faceflow.storage: incoming/)
        (*(f"{b}/tenant/*" for b in _ALBUM_BUCKETS), "albums/Raw/incoming/tenant/*"),
    ),
    (("s3:ListBucket", "s3:ListBucketMultipartUploads"), _ALBUM_BUCKETS),
)

# construct id → (handler, env var names, {(action, resource)}) — docs/architecture.md
EXPECTED = {
    "FaceCropFunction": (
        "face_crop.handler",
        {"BUCKET_NAME", "PROCESS_TABLE", "MAX_UPLOAD_BYTES", "FACE_MODELS_DIR"},
        _grants(
            ("s3:GetObject", "bucket/uploads/*"),
            ("s3:ListBucket", "bucket"),
            ("s3:PutObject", "bucket/crops/*"),
            ("s3:DeleteObject", ("bucket/uploads/*", "bucket/crops/*")),
            (("dynamodb:GetItem", "dynamodb:UpdateItem"), P),
            TABLES_KEY,
            FAILED_EVENTS_KEY,
        ),
    ),
    "FaceSwapFunction": (
        "face_swap.handler",
        {"BUCKET_NAME", "PROCESS_TABLE", "BASE_RESOURCE_TABLE", "ENDPOINT_NAME"},
        _grants(
            ("s3:PutObject", "bucket/inference/in/*"),
            ("s3:DeleteObject", ("bucket/crops/*", "bucket/inference/in/*")),
            (("dynamodb:GetItem", "dynamodb:UpdateItem"), P),
            ("dynamodb:GetItem", B),
            ("sagemaker:InvokeEndpointAsync", "endpoint/style-facechain"),
            ("s3:GetObject", ("bucket/crops/*", "bucket/base/*")),
            ("s3:ListBucket", "bucket"),
            TABLES_KEY,
            TABLES_KEY_READ,
            FAILED_EVENTS_KEY,
        ),
    ),
    "FaceSwapCompletionFunction": (
        "face_swap_completion.handler",
        {"BUCKET_NAME", "PROCESS_TABLE", "DISPLAY_TABLE"},
        _grants(
            ("s3:GetObject", "bucket/inference/out/*"),
            ("s3:ListBucket", "bucket"),
            (("s3:PutObject", "s3:DeleteObject"), "bucket/results/*"),
            (
                "s3:DeleteObject",
                tuple(f"bucket/inference/{p}/*" for p in ("in", "out", "failed")),
            ),
            (("dynamodb:GetItem", "dynamodb:UpdateItem"), P),
            (("dynamodb:PutItem", "dynamodb:DeleteItem"), D),
            TABLES_KEY,
            FAILED_EVENTS_KEY,
        ),
    ),
    "PipelineDeadLetterFunction": (
        "pipeline_dead_letters.handler",
        {"PROCESS_TABLE"},
        _grants(
            (("dynamodb:GetItem", "dynamodb:UpdateItem"), P),
            (
                (
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                ),
                (
                    "<FaceCropDeadLetterQueue>",
                    "<FaceSwapDeadLetterQueue>",
                    "<FaceSwapCompletionDeadLetterQueue>",
                ),
            ),
            TABLES_KEY,
            ("kms:Decrypt", "StackKey"),
        ),
    ),
    "AgreementFunction": (
        "agreement.handler",
        {"CORS_ALLOWED_ORIGINS", "USER_AGREEMENT_TABLE", "TERMS_VERSION"},
        _grants((("dynamodb:GetItem", "dynamodb:PutItem"), U), TABLES_KEY),
    ),
    "StylesFunction": (
        "styles.handler",
        {"CORS_ALLOWED_ORIGINS", "BUCKET_NAME", "BASE_RESOURCE_TABLE", "RESULT_URL_EXPIRY_SECONDS"},
        _grants(
            ("dynamodb:Scan", B),
            ("s3:GetObject", "bucket/base/*"),
            TABLES_KEY_READ,
        ),
    ),
    "UploadFunction": (
        "upload.handler",
        {
            "CORS_ALLOWED_ORIGINS",
            "BUCKET_NAME",
            "USER_AGREEMENT_TABLE",
            "BASE_RESOURCE_TABLE",
            "PROCESS_TABLE",
            "TERMS_VERSION",
            "MAX_UPLOAD_BYTES",
            "UPLOAD_URL_EXPIRY_SECONDS",
            "PROCESS_TTL_DAYS",
        },
        _grants(
            ("dynamodb:GetItem", U),
            ("dynamodb:BatchGetItem", B),
            ("dynamodb:PutItem", P),
            ("s3:PutObject", "bucket/uploads/*"),
            TABLES_KEY,
        ),
    ),
    "ImagesFunction": (
        "images.handler",
        {
            "CORS_ALLOWED_ORIGINS",
            "BUCKET_NAME",
            "DISPLAY_TABLE",
            "DISPLAY_HISTORY_TABLE",
            "PROCESS_TABLE",
            "RESULT_URL_EXPIRY_SECONDS",
            "DISPLAY_HISTORY_TTL_DAYS",
        },
        _grants(
            ("dynamodb:Query", D),
            ("dynamodb:BatchWriteItem", H),
            ("dynamodb:GetItem", P),
            ("s3:GetObject", "bucket/results/*"),
            TABLES_KEY,
        ),
    ),
    "ErasureFunction": (
        "erasure.handler",
        {
            "CORS_ALLOWED_ORIGINS",
            "BUCKET_NAME",
            "PROCESS_TABLE",
            "DISPLAY_TABLE",
            "DISPLAY_HISTORY_TABLE",
            "USER_AGREEMENT_TABLE",
            "USER_POOL_ID",
            *ALBUM_ENV,
        },
        _grants(
            ("cognito-idp:AdminGetUser", "UserPool"),
            *ALBUM_ERASURE,
            ("s3:ListBucket", "bucket"),
            (
                "s3:DeleteObject",
                tuple(f"bucket/{p}/*" for p in ("uploads", "crops", "results", "inference")),
            ),
            (ERASE, (D, H, A)),
            ("dynamodb:Query", f"{P}/index/byUser"),
            (("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), P),
            TABLES_KEY,
        ),
    ),
}
ASYNC_FUNCTIONS = ("FaceCropFunction", "FaceSwapFunction", "FaceSwapCompletionFunction")


def _short(resource: object) -> str:
    """Readable resource: `bucket/uploads/*`, `ProcessTable/index/byUser`, `endpoint/…`."""
    text = render(resource)
    text = re.sub(r"^import:style-s3-BaseBucketArn", "bucket", text)
    text = re.sub(
        r"^import:style-ddb:ExportsOutputFnGetAtt([A-Za-z]+Table)[0-9A-F]{8}Arn[0-9A-F]{8}",
        r"\1",
        text,
    )
    text = re.sub(
        r"^import:style-cognito:ExportsOutputFnGetAtt(UserPool)[0-9A-F]{8}Arn.*", r"\1", text
    )
    text = re.sub(r"^<([A-Za-z]+DeadLetterQueue)[0-9A-F]{8}\.Arn>$", r"<\1>", text)
    text = re.sub(r"^import:style-ddb:ExportsOutputFnGetAttTablesKey.*", "TablesKey", text)
    text = re.sub(r"^<StackKey[0-9A-F]{8}\.Arn>$", "StackKey", text)
    text = re.sub(r"^import:style-albums-(\w+)BucketArn", r"albums/\1", text)
    text = re.sub(
        r"^import:style-albums:ExportsOutputFnGetAtt(?:Storage)?(Key|Table)[0-9A-F]{8}Arn[0-9A-F]{8}",
        r"albums/\1",
        text,
    )
    text = re.sub(r"^arn:<AWS::Partition>:sagemaker:us-west-2:<AWS::AccountId>:", "", text)
    return text


def _function(synth, construct_id: str) -> tuple[str, dict]:
    found = [
        (logical_id, fn)
        for logical_id, fn in synth.resources("Functions", "AWS::Lambda::Function").items()
        if re.fullmatch(rf"{construct_id}[0-9A-F]{{8}}", logical_id)
    ]
    assert len(found) == 1, construct_id
    return found[0]


def _role_statements(synth, construct_id: str) -> list[dict]:
    _, fn = _function(synth, construct_id)
    role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for policy in synth.resources("Functions", "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += statements(policy["Properties"]["PolicyDocument"])
    role = synth.template_json("Functions")["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, construct_id
    for inline in role.get("Policies", []):
        found += statements(inline["PolicyDocument"])
    return found


@pytest.mark.parametrize("construct_id", sorted(EXPECTED))
def test_handler_runtime_and_environment(synth, construct_id):
    handler, env_names, _ = EXPECTED[construct_id]
    _, fn = _function(synth, construct_id)
    props = fn["Properties"]
    assert props["Handler"] == handler
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["x86_64"]
    variables = dict(props["Environment"]["Variables"])
    assert variables.pop("POWERTOOLS_SERVICE_NAME") == construct_id  # Powertools' `service`
    assert set(variables) == env_names
    assert "LogGroup" in props["LoggingConfig"]


XRAY_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_every_function_has_active_tracing(synth):
    for stack in ("Functions", "FaceChain"):
        functions = synth.resources(stack, "AWS::Lambda::Function")
        ours = {k: f for k, f in functions.items() if "POWERTOOLS_SERVICE_NAME" in str(f)}
        assert len(ours) >= (8 if stack == "Functions" else 3)
        for logical_id, fn in ours.items():
            assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id


@pytest.mark.parametrize("construct_id", sorted(EXPECTED))
def test_role_grants_exactly_the_documented_actions(synth, construct_id):
    _, _, expected = EXPECTED[construct_id]
    granted = set()
    for statement in _role_statements(synth, construct_id):
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        assert not [a for a in actions if "*" in a], statement
        if statement.get("Sid") == "WriteOwnLogs":
            assert sorted(actions) == ["logs:CreateLogStream", "logs:PutLogEvents"]
            continue
        if sorted(actions) == XRAY_ACTIONS:  # active tracing; X-Ray has no resource ARNs
            assert statement["Resource"] == "*"
            continue
        if statement.get("Sid", "").endswith("TableKey"):
            assert statement["Condition"] == {
                "StringEquals": {"kms:ViaService": "dynamodb.us-west-2.amazonaws.com"}
            }
        if construct_id in ASYNC_FUNCTIONS and all(a.startswith("sqs:") for a in actions):
            # on-failure destination
            assert render(statement["Resource"]).startswith(f"<{construct_id[:-8]}DeadLetterQueue")
            continue
        for action in actions:
            for resource in as_list(statement["Resource"]):
                granted.add((action, _short(resource)))
    assert granted == expected


def test_functions_without_the_imaging_layer_import_without_its_packages(synth):
    """A function the template gives only SharedLayer must not need numpy, Pillow or dlib."""
    layers = synth.resources("Functions", "AWS::Lambda::LayerVersion")
    imaging = next(k for k in layers if k.startswith("ImagingLayer"))
    modules = []
    for stack in ("Functions", "FaceChain"):
        for fn in synth.resources(stack, "AWS::Lambda::Function").values():
            props = fn["Properties"]
            refs = {r.get("Ref") for r in props.get("Layers", [])}
            if "SharedLayer" in render(props.get("Layers")) and imaging not in refs:
                modules.append(props["Handler"].split(".")[0])
    assert {"face_swap", "face_swap_completion", "upload", "build_status"} <= set(modules)
    assert_runs(
        blocking("numpy", "PIL", "dlib", "cv2") + importing(modules),
        ["lambda/shared", "lambda/apis", "lambda/image_processing", "lambda/facechain_codebuild"],
    )


@pytest.mark.parametrize(
    ("construct_id", "prefixes"),
    [
        ("ErasureFunction", ["crops/*", "inference/*", "results/*", "uploads/*"]),
        ("FaceCropFunction", ["uploads/*"]),
        ("FaceSwapFunction", ["base/*", "crops/*"]),
        ("FaceSwapCompletionFunction", ["inference/out/*"]),
    ],
)
def test_listing_is_limited_to_the_prefixes_each_function_reads(synth, construct_id, prefixes):
    (listing,) = [
        s
        for s in _role_statements(synth, construct_id)
        if s["Action"] == "s3:ListBucket" and _short(s["Resource"]) == "bucket"
    ]
    assert sorted(as_list(listing["Condition"]["StringLike"]["s3:prefix"])) == prefixes


def test_only_the_face_crop_gets_the_imaging_layer(synth):
    layers = synth.resources("Functions", "AWS::Lambda::LayerVersion")
    shared = next(k for k in layers if k.startswith("SharedLayer"))
    imaging = next(k for k in layers if k.startswith("ImagingLayer"))
    for construct_id in EXPECTED:
        _, fn = _function(synth, construct_id)
        refs = {r["Ref"] for r in fn["Properties"]["Layers"]}
        assert refs == ({shared, imaging} if construct_id == "FaceCropFunction" else {shared})
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    _, crop = _function(synth, "FaceCropFunction")
    assert crop["Properties"]["Environment"]["Variables"]["FACE_MODELS_DIR"] == "/opt/face_models"


def test_s3_notifications_object_created_on_prefixes(synth):
    (notifications,) = synth.resources("Functions", "Custom::S3BucketNotifications").values()
    props = notifications["Properties"]
    assert props["Managed"] is False  # merged with the bucket's other notifications
    assert render(props["BucketName"]) == "import:style-s3-BaseBucketName"
    config = props["NotificationConfiguration"]
    assert set(config) == {"LambdaFunctionConfigurations"}
    routes = {
        c["Filter"]["Key"]["FilterRules"][0]["Value"]: (
            c["Events"],
            c["LambdaFunctionArn"]["Fn::GetAtt"][0],
        )
        for c in config["LambdaFunctionConfigurations"]
    }
    assert set(routes) == {"uploads/", "crops/"}
    assert routes["uploads/"][0] == ["s3:ObjectCreated:*"]
    assert routes["uploads/"][1] == _function(synth, "FaceCropFunction")[0]
    assert routes["crops/"][0] == ["s3:ObjectCreated:*"]
    assert routes["crops/"][1] == _function(synth, "FaceSwapFunction")[0]


def test_notification_handler_role_is_scoped_to_the_bucket(synth):
    roles = synth.resources("Functions", "AWS::IAM::Role")
    role = next(r for k, r in roles.items() if k.startswith("BucketNotificationsHandlerRole"))
    (policy,) = role["Properties"]["Policies"]
    manage = next(
        s for s in statements(policy["PolicyDocument"]) if s["Sid"] == "ManageNotifications"
    )
    assert render(manage["Resource"]) == "import:style-s3-BaseBucketArn"
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize("construct_id", ASYNC_FUNCTIONS)
def test_async_invocations_retry_twice_then_dead_letter(synth, construct_id):
    fn_id, _ = _function(synth, construct_id)
    configs = [
        c["Properties"]
        for c in synth.resources("Functions", "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    (config,) = configs
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 6 * 3600
    destination = render(config["DestinationConfig"]["OnFailure"]["Destination"])
    assert destination.startswith(f"<{construct_id.removesuffix('Function')}DeadLetterQueue")


@pytest.mark.parametrize(
    "construct_id", ["FaceCropFunction", "FaceSwapFunction", "FaceSwapCompletionFunction"]
)
def test_exhausted_pipeline_events_reach_the_dead_letter_function(synth, construct_id):
    consumer, _ = _function(synth, "PipelineDeadLetterFunction")
    queue = f"<{construct_id.removesuffix('Function')}DeadLetterQueue>"
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("Functions", "AWS::Lambda::EventSourceMapping").values()
        if _short(m["Properties"]["EventSourceArn"]) == queue
    ]
    assert mapping["FunctionName"] == {"Ref": consumer}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_dead_letter_queues_are_encrypted_and_tls_only(synth):
    queues = synth.resources("Functions", "AWS::SQS::Queue")
    assert len(queues) == 3
    for queue in queues.values():  # failed events name users and objects: the stack's key
        assert render(queue["Properties"]["KmsMasterKeyId"]).startswith("<StackKey")
    policies = synth.resources("Functions", "AWS::SQS::QueuePolicy")
    assert len(policies) == 3
    for policy in policies.values():
        (deny,) = statements(policy["Properties"]["PolicyDocument"])
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_completion_subscribes_to_both_inference_topics(synth):
    completion_id, _ = _function(synth, "FaceSwapCompletionFunction")
    subscriptions = synth.resources("Functions", "AWS::SNS::Subscription").values()
    topics = set()
    for sub in subscriptions:
        assert sub["Properties"]["Protocol"] == "lambda"
        assert sub["Properties"]["Endpoint"] == {"Fn::GetAtt": [completion_id, "Arn"]}
        topics.add(render(sub["Properties"]["TopicArn"]))
    assert len(topics) == 2
    assert any("InferenceSuccessTopic" in t for t in topics)
    assert any("InferenceErrorTopic" in t for t in topics)


# ---------------------------------------------------------------- real bundling (slow)

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def _size(path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A real synth with local bundling (pip for python3.12 manylinux, no Docker)."""
    from tests.unit.conftest import project_context, synthesize

    context = project_context(**{"@aws-cdk/core:validationReportJson": True})
    return synthesize(tmp_path_factory.mktemp("cdk.out.bundled"), context)


def _asset_dir(synth, content: dict):
    key = content["S3Key"]
    return synth.outdir / f"asset.{key.removesuffix('.zip')}"


@pytest.mark.slow
def test_local_bundling_builds_layers_for_the_lambda_runtime(bundled):
    assert bundled.error is None
    layers = {
        k.rstrip("0123456789ABCDEF"): _asset_dir(bundled, layer["Properties"]["Content"])
        for k, layer in bundled.resources("Functions", "AWS::Lambda::LayerVersion").items()
    }
    shared, imaging = layers["SharedLayer"], layers["ImagingLayer"]
    assert (shared / "python" / "style_backend" / "config.py").is_file()
    assert not list(shared.rglob("__pycache__"))
    python = imaging / "python"
    assert (python / "numpy").is_dir() and (python / "PIL").is_dir()
    (runtime_ext,) = python.glob("onnxruntime/capi/onnxruntime_pybind11_state*.so")
    assert "cpython-312-x86_64-linux-gnu" in runtime_ext.name  # the runtime's ABI, not this one's
    # The crop is YuNet's: neither dlib nor OpenCV ships, nor onnxruntime's tool dependencies.
    for absent in ("dlib", "_dlib_pybind11*", "cv2", "sympy", "google"):
        assert not list(python.glob(absent)), absent
    models = imaging / "face_models"
    for name, sha256 in layer_models().items():  # the pinned files, byte for byte
        assert hashlib.sha256((models / name).read_bytes()).hexdigest() == sha256
    assert sorted(p.name for p in models.iterdir()) == sorted(layer_models())


@pytest.mark.slow
def test_every_function_fits_lambdas_unzipped_limit(bundled):
    template = bundled.template_json("Functions")["Resources"]
    sizes = {}
    for logical_id, fn in bundled.resources("Functions", "AWS::Lambda::Function").items():
        if "Layers" not in fn["Properties"]:
            continue  # CDK's own notifications handler (inline code)
        code = _size(_asset_dir(bundled, fn["Properties"]["Code"]))
        layers = sum(
            _size(_asset_dir(bundled, template[ref["Ref"]]["Properties"]["Content"]))
            for ref in fn["Properties"]["Layers"]
        )
        sizes[logical_id] = code + layers
        assert not list(_asset_dir(bundled, fn["Properties"]["Code"]).rglob("__pycache__"))
    for logical_id, size in sorted(sizes.items()):
        print(f"{logical_id}: {size / 2**20:.1f} MiB unzipped incl. layers (limit 250 MiB)")
        assert size < LAMBDA_UNZIPPED_LIMIT, logical_id


@pytest.mark.slow
def test_container_source_holds_the_build_folder_and_the_domain_package(bundled):
    (project,) = bundled.resources("ContainerBuild", "AWS::CodeBuild::Project").values()
    location = project["Properties"]["Source"]["Location"]
    key = location["Fn::Join"][1][-1] if isinstance(location, dict) else location.split("/")[-1]
    source = bundled.outdir / f"asset.{key.strip('/').removesuffix('.zip')}"
    assert (source / "style_backend" / "domain" / "swap.py").is_file()  # the container imports it
    assert (source / "README.md").is_file()
    for name in ("face_detection_yunet_2023mar_int8bq.onnx", "face_landmark.tflite"):
        assert (source / "face_models" / name).is_file()  # the Dockerfile COPYs them
