"""Style Backend domain package.

Shared by the Lambda functions (shipped as SharedLayer), the FaceChain container and the local
runtime, so that no domain logic is written twice. Modules are small and import only what they use:
API handlers never pay for numpy or dlib.
"""
