"""`make train` and `make register`: start a training job with the sagemaker SDK, and register
its model in the SageMaker model registry. Everything comes from the Training stack's outputs
(the images, the role, the bucket, the key, the model package groups) and the CDK context.

    make train TASK=embedding [DATASET=datasets/embedding] [HPS='{"steps": "40000"}']
    make register JOB=<training job name> [APPROVE=1]

The channels are s3://<TrainingBucket>/<DATASET>/train and …/validation (see README.md for their
layouts); the model lands in s3://<TrainingBucket>/jobs/<job name>/output/model.tar.gz.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS = ("detection", "embedding")
# SageMaker reads these from the job's log stream into CloudWatch metrics (LossLog's lines).
METRIC_DEFINITIONS = [
    {"Name": "train:loss", "Regex": r"train_loss=([0-9.]+)"},
    {"Name": "validation:loss", "Regex": r"validation_loss=([0-9.]+)"},
]
FULL_SIZE = {  # hyperparameters of a real run; anything else is the scripts' defaults
    "detection": {"steps": "20000", "batch_size": "32", "input_size": "640", "workers": "4"},
    "embedding": {"steps": "40000", "batch_size": "128", "image_size": "112", "workers": "4"},
}
MAX_RUN_S = 24 * 3600
VOLUME_GB = 100
SERVING_INSTANCES = ["ml.c6i.large", "ml.c6i.xlarge", "ml.g5.xlarge"]


@dataclass(frozen=True)
class Targets:
    """The Training stack's outputs."""

    training_image_uri: str
    serving_image_uri: str
    role_arn: str
    bucket: str
    key_arn: str
    groups: dict[str, str]

    @classmethod
    def from_outputs(cls, outputs: dict[str, str]) -> Targets:
        return cls(
            training_image_uri=outputs["TrainingImageUri"],
            serving_image_uri=outputs["ServingImageUri"],
            role_arn=outputs["TrainingRoleArn"],
            bucket=outputs["TrainingBucket"],
            key_arn=outputs["TrainingKeyArn"],
            groups={
                "embedding": outputs["EmbeddingModelPackageGroup"],
                "detection": outputs["DetectionModelPackageGroup"],
            },
        )

    @classmethod
    def from_stack(cls, stack_name: str, cloudformation) -> Targets:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        return cls.from_outputs(
            {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        )


@dataclass(frozen=True)
class TrainingJob:
    """Everything the training job is started with."""

    task: str
    image_uri: str
    role_arn: str
    instance_type: str
    inputs: dict[str, str]
    hyperparameters: dict[str, str]
    output_path: str
    kms_key: str
    instance_count: int = 1
    volume_size: int = VOLUME_GB
    max_run: int = MAX_RUN_S
    metric_definitions: list[dict[str, str]] = field(default_factory=lambda: METRIC_DEFINITIONS)

    @property
    def base_job_name(self) -> str:
        return f"faceflow-{self.task}"


def training_job(
    targets: Targets,
    task: str,
    instance_type: str,
    dataset: str | None = None,
    overrides: dict[str, object] | None = None,
) -> TrainingJob:
    if task not in TASKS:
        raise ValueError(f"task: one of {', '.join(TASKS)}, not {task!r}")
    prefix = (dataset or f"datasets/{task}").strip("/")
    if not prefix.startswith("datasets/"):
        raise ValueError(f"dataset {prefix!r}: the training role reads only under datasets/")
    data = f"s3://{targets.bucket}/{prefix}"
    # SageMaker passes hyperparameters as strings; the scripts type them (contract.py).
    hyperparameters = {"task": task, **FULL_SIZE[task]}
    hyperparameters.update({k: str(v) for k, v in (overrides or {}).items()})
    return TrainingJob(
        task=task,
        image_uri=targets.training_image_uri,
        role_arn=targets.role_arn,
        instance_type=instance_type,
        inputs={"train": f"{data}/train", "validation": f"{data}/validation"},
        hyperparameters=hyperparameters,
        output_path=f"s3://{targets.bucket}/jobs",
        kms_key=targets.key_arn,
    )


def estimator_arguments(job: TrainingJob) -> dict:
    """The keyword arguments of sagemaker.estimator.Estimator for this job."""
    return {
        "image_uri": job.image_uri,
        "role": job.role_arn,
        "instance_count": job.instance_count,
        "instance_type": job.instance_type,
        "hyperparameters": job.hyperparameters,
        "output_path": job.output_path,
        "output_kms_key": job.kms_key,
        "volume_kms_key": job.kms_key,
        "volume_size": job.volume_size,
        "max_run": job.max_run,
        "base_job_name": job.base_job_name,
        "metric_definitions": job.metric_definitions,
        # The container reads its channels and writes its model; it needs no network.
        "enable_network_isolation": True,
    }


def start(job: TrainingJob, session=None) -> str:
    """Starts the job with the sagemaker SDK (requirements-launch.txt) and returns its name."""
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput

    estimator = Estimator(**estimator_arguments(job), sagemaker_session=session)
    channels = {name: TrainingInput(uri) for name, uri in job.inputs.items()}
    estimator.fit(channels, wait=False, logs=False)
    return estimator.latest_training_job.name


def model_package_request(targets: Targets, description: dict, approve: bool) -> dict:
    """CreateModelPackage for a finished training job (DescribeTrainingJob's answer)."""
    task = description["HyperParameters"].get("task", "")
    if task not in TASKS:
        raise ValueError(f"{description['TrainingJobName']}: not a FaceFlow training job")
    if description["TrainingJobStatus"] != "Completed":
        raise ValueError(f"{description['TrainingJobName']} is {description['TrainingJobStatus']}")
    response = ["application/json"]
    content = ["image/jpeg", "image/png"] + (["application/json"] if task == "embedding" else [])
    job = description["TrainingJobName"]
    return {
        "ModelPackageGroupName": targets.groups[task],
        "ModelPackageDescription": f"FaceFlow {task} from training job {job}",
        "ModelApprovalStatus": "Approved" if approve else "PendingManualApproval",
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": targets.serving_image_uri,
                    "ModelDataUrl": description["ModelArtifacts"]["S3ModelArtifacts"],
                }
            ],
            "SupportedContentTypes": content,
            "SupportedResponseMIMETypes": response,
            "SupportedRealtimeInferenceInstanceTypes": SERVING_INSTANCES,
        },
        "CustomerMetadataProperties": {
            "training_job": description["TrainingJobName"],
            "hyperparameters": json.dumps(description["HyperParameters"], sort_keys=True)[:1000],
        },
    }


def register(targets: Targets, job_name: str, sagemaker_client, approve: bool = False) -> str:
    description = sagemaker_client.describe_training_job(TrainingJobName=job_name)
    request = model_package_request(targets, description, approve)
    return sagemaker_client.create_model_package(**request)["ModelPackageArn"]


def project_context() -> dict:
    return json.loads((REPO_ROOT / "cdk.context.json").read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="faceflow_launch")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="start a training job")
    train.add_argument("--task", choices=TASKS, required=True)
    train.add_argument("--dataset", help="S3 prefix under the training bucket (datasets/<task>)")
    train.add_argument("--hyperparameters", default="{}", help="JSON object of overrides")
    train.add_argument("--instance-type", help="default: faceflow_training_instance_type")
    train.add_argument("--dry-run", action="store_true", help="print the job, start nothing")
    reg = commands.add_parser("register", help="register a finished job's model")
    reg.add_argument("--job", required=True)
    reg.add_argument("--approve", action="store_true")
    args = parser.parse_args(argv)

    import boto3

    context = project_context()
    session = boto3.Session(region_name=context["region"])
    stack = f"{context['project_name']}-training"
    targets = Targets.from_stack(stack, session.client("cloudformation"))
    if args.command == "train":
        job = training_job(
            targets,
            args.task,
            args.instance_type or context["faceflow_training_instance_type"],
            args.dataset,
            json.loads(args.hyperparameters),
        )
        if args.dry_run:
            print(json.dumps(asdict(job), indent=2))
            return 0
        import sagemaker

        name = start(job, sagemaker.Session(boto_session=session))
        print(f"started training job {name}; then: make register JOB={name}")
        return 0
    arn = register(targets, args.job, session.client("sagemaker"), args.approve)
    print(f"registered {arn}")
    print("serve it: set faceflow_embedding_model_package to this ARN (cdk.context.json or -c),")
    print("then deploy the training stack: the endpoint switches to it blue/green.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
