from stacks.facechain.stack import FaceChainStack

__all__ = ["FaceChainStack"]
