"""The album single table (faceflow.storage.keys): PK/SK, GSI1 (status), GSI2 (user#album), LSI1,
encrypted with the album key; `ttl` expires the share rate limit's counters
(faceflow.storage.shares)."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.settings import Settings
from stacks.shared import ProjectTable

GSI1, GSI2, LSI1 = "GSI1", "GSI2", "LSI1"


class AlbumTable(ProjectTable):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            partition="PK",
            sort="SK",
            encryption_key=key,
            ttl=True,
            # Live progress (stacks/live) reads its job and share items' changes.
            stream=ddb.StreamViewType.NEW_IMAGE,
        )
        for name in (GSI1, GSI2):
            self.add_index(name, f"{name}PK", f"{name}SK")
        self.add_local_secondary_index(
            index_name=LSI1,
            sort_key=ddb.Attribute(name="LSI1SK", type=ddb.AttributeType.STRING),
        )
