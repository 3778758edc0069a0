from stacks.apigateway.stack import ApiStack

__all__ = ["ApiStack"]
