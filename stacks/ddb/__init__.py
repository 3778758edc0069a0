from stacks.ddb.stack import TablesStack

__all__ = ["TablesStack"]
