"""The five tables of docs/architecture.md (key and index names are a contract with handlers:
index names come from style_backend.tables)."""

from __future__ import annotations

from constructs import Construct

from stacks.settings import Settings
from stacks.shared import ProjectStack, ProjectTable
from style_backend.tables import BASE_RESOURCE_BY_STYLE, PROCESS_BY_USER


class TablesStack(ProjectStack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        s = settings
        self.process = ProjectTable(
            self, "ProcessTable", settings=s, partition="processId", ttl=True
        )
        self.process.add_index(PROCESS_BY_USER, "userId", "createdAt")
        self.display = ProjectTable(
            self, "DisplayTable", settings=s, partition="userId", sort="resultId"
        )
        self.display_history = ProjectTable(
            self, "DisplayHistoryTable", settings=s, partition="userId", sort="shownAt", ttl=True
        )
        self.base_resource = ProjectTable(
            self, "BaseResourceTable", settings=s, partition="resourceId"
        )
        self.base_resource.add_index(BASE_RESOURCE_BY_STYLE, "styleKey")
        self.user_agreement = ProjectTable(
            self, "UserAgreementTable", settings=s, partition="userId", sort="termsVersion"
        )
