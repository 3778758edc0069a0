"""FaceFlow's own face models on SageMaker: the images and their build, the training bucket, the
role training jobs run with, the model registry, and (once configured) the embedding endpoint.

Training jobs are not resources: `make train` starts them with the sagemaker SDK from this
stack's outputs, and `make register` adds the result to the registry (byoc/faceflow_models).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.settings import Settings
from stacks.training.data import TrainingData
from stacks.training.endpoint import EmbeddingEndpoint
from stacks.training.images import ModelImages
from stacks.training.registry import ModelRegistry
from stacks.training.roles import endpoint_role, training_job_role


class TrainingStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.images = ModelImages(self, "Images", settings=settings)
        self.data = TrainingData(self, "Data", settings=settings)
        self.registry = ModelRegistry(self, "Registry", settings=settings)
        self.training_role = training_job_role(
            self, "TrainingJobRole", data=self.data, repository=self.images.repositories["training"]
        )
        self.endpoint = None
        if settings.faceflow_embedding_model_package:
            role = endpoint_role(
                self,
                "EmbeddingEndpointRole",
                data=self.data,
                repository=self.images.repositories["serving"],
            )
            self.endpoint = EmbeddingEndpoint(
                self, "EmbeddingEndpoint", settings=settings, role=role, key=self.data.key
            )
            cdk.CfnOutput(self, "EmbeddingEndpointName", value=self.endpoint.endpoint_name)
        # What `make train` and `make register` read (byoc/faceflow_models/faceflow_launch.py).
        outputs = {
            "TrainingImageUri": self.images.image_uri("training"),
            "ServingImageUri": self.images.image_uri("serving"),
            "ImageBuildProject": self.images.project.project_name,
            "TrainingRoleArn": self.training_role.role_arn,
            "TrainingBucket": self.data.bucket.bucket_name,
            "TrainingKeyArn": self.data.key.key_arn,
            "EmbeddingModelPackageGroup": self.registry.group_names["embedding"],
            "DetectionModelPackageGroup": self.registry.group_names["detection"],
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
