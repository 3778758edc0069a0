from stacks.byoc.stack import ContainerBuildStack

__all__ = ["ContainerBuildStack"]
