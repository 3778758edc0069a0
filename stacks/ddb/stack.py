"""The five tables of docs/architecture.md (key and index names are a contract with handlers)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as ddb
from constructs import Construct

from stacks.settings import Settings

S = ddb.AttributeType.STRING
TTL_ATTRIBUTE = "ttl"
PROCESS_BY_USER_INDEX = "byUser"
BASE_RESOURCE_BY_STYLE_INDEX = "byStyle"


class TablesStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self._settings = settings
        self.process = self._table("ProcessTable", "processId", ttl=True)
        self.process.add_global_secondary_index(
            index_name=PROCESS_BY_USER_INDEX,
            partition_key=ddb.Attribute(name="userId", type=S),
            sort_key=ddb.Attribute(name="createdAt", type=S),
        )
        self.display = self._table("DisplayTable", "userId", "resultId")
        self.display_history = self._table("DisplayHistoryTable", "userId", "shownAt", ttl=True)
        self.base_resource = self._table("BaseResourceTable", "resourceId")
        self.base_resource.add_global_secondary_index(
            index_name=BASE_RESOURCE_BY_STYLE_INDEX,
            partition_key=ddb.Attribute(name="styleKey", type=S),
        )
        self.user_agreement = self._table("UserAgreementTable", "userId", "termsVersion")

    def _table(
        self, construct_id: str, partition: str, sort: str | None = None, *, ttl: bool = False
    ) -> ddb.Table:
        retain = self._settings.removal_policy == "retain"
        return ddb.Table(
            self,
            construct_id,
            partition_key=ddb.Attribute(name=partition, type=S),
            sort_key=ddb.Attribute(name=sort, type=S) if sort else None,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            encryption=ddb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE if ttl else None,
            deletion_protection=retain,
            removal_policy=self._settings.cdk_removal_policy,
        )
