"""The five tables of docs/architecture.md (key and index names are a contract with handlers:
index names come from style_backend.storage.keys), under one customer-managed key: they hold who
agreed to what, each user's processes and what they were shown (personal data)."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as ddb
from constructs import Construct

from stacks.settings import Settings
from stacks.shared import ProjectKey, ProjectStack, ProjectTable
from style_backend.storage.keys import BASE_RESOURCE_BY_STYLE, PROCESS_BY_USER


class TablesStack(ProjectStack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.key = ProjectKey(
            self, "TablesKey", settings=settings, description="The styling flow's five tables"
        )
        table = {"settings": settings, "encryption_key": self.key}
        # Its stream feeds live progress (stacks/live): each write is the new state of a process.
        self.process = ProjectTable(
            self,
            "ProcessTable",
            partition="processId",
            ttl=True,
            stream=ddb.StreamViewType.NEW_IMAGE,
            **table,
        )
        self.process.add_index(PROCESS_BY_USER, "userId", "createdAt")
        self.display = ProjectTable(
            self, "DisplayTable", partition="userId", sort="resultId", **table
        )
        self.display_history = ProjectTable(
            self, "DisplayHistoryTable", partition="userId", sort="shownAt", ttl=True, **table
        )
        self.base_resource = ProjectTable(
            self, "BaseResourceTable", partition="resourceId", **table
        )
        self.base_resource.add_index(BASE_RESOURCE_BY_STYLE, "styleKey")
        self.user_agreement = ProjectTable(
            self, "UserAgreementTable", partition="userId", sort="termsVersion", **table
        )
