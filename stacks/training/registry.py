"""The SageMaker model registry: one model package group per model family. `make register`
adds versions; the embedding endpoint deploys the version the context names."""

from __future__ import annotations

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.settings import Settings

FAMILIES = {
    "embedding": "ResNet + ArcFace, 512-D L2-normalised face identity embeddings",
    "detection": "MobileNetV3 + FPN face detector (boxes and scores)",
}


class ModelRegistry(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.group_names = {
            family: f"{settings.project_name}-faceflow-{family}" for family in FAMILIES
        }
        self.groups = {
            family: sagemaker.CfnModelPackageGroup(
                self,
                f"{family.capitalize()}Group",
                model_package_group_name=self.group_names[family],
                model_package_group_description=f"FaceFlow {description}",
            )
            for family, description in FAMILIES.items()
        }
