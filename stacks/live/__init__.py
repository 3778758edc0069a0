"""Live progress: the WebSocket API, its connections table and the publisher that pushes the
album and process tables' changes to their owners' connections."""

from stacks.live.stack import LiveStack

__all__ = ["LiveStack"]
