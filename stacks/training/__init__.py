from stacks.training.stack import TrainingStack

__all__ = ["TrainingStack"]
