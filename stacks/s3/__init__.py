from stacks.s3.stack import StorageStack

__all__ = ["StorageStack"]
