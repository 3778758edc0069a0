"""The REST API's edge on Powertools' event handler: models (pydantic v2), the error mapping, and
the route table the stacks and the local gateway derive from the functions' routers."""
