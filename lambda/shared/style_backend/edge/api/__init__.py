"""The REST API on Powertools' event handler: its models (pydantic v2) and the route table the
stacks and the local gateway derive from the API functions' routers (common.api maps errors)."""
