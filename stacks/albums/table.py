"""FaceFlow's single table (item layout in lambda/shared/faceflow/albums.py): PK/SK, GSI1 by
status, GSI2 by userId#albumId, LSI1 by createdAt; on demand, PITR, the album KMS key."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.settings import Settings

GSI1, GSI2, LSI1 = "GSI1", "GSI2", "LSI1"
_S = ddb.AttributeType.STRING


class AlbumTable(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = ddb.Table(
            self,
            "Table",
            partition_key=ddb.Attribute(name="PK", type=_S),
            sort_key=ddb.Attribute(name="SK", type=_S),
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=settings.cdk_removal_policy,
        )
        for name in (GSI1, GSI2):
            self.table.add_global_secondary_index(
                index_name=name,
                partition_key=ddb.Attribute(name=f"{name}PK", type=_S),
                sort_key=ddb.Attribute(name=f"{name}SK", type=_S),
            )
        self.table.add_local_secondary_index(
            index_name=LSI1, sort_key=ddb.Attribute(name="LSI1SK", type=_S)
        )
