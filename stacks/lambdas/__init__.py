from stacks.lambdas.stack import FunctionsStack

__all__ = ["FunctionsStack"]
