"""The FaceChain container's serving app: SageMaker's /ping + /invocations over swap engines."""
