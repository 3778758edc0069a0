from stacks.cognito.stack import IdentityStack

__all__ = ["IdentityStack"]
