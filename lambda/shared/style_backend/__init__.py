"""The styling backend, in three layers: domain (pure rules), storage (AWS), edge (what the
handlers call).

Shared by the Lambda functions (shipped whole in SharedLayer), the FaceChain container and the
local runtime, so that no logic is written twice. Modules are small and import only what they use:
API handlers never pay for numpy or dlib.

- `config`: the environment variables the handlers read (EnvVar); the stacks import it.
- `domain/`: statuses and transitions, failures and refusals, upload, swap, results, styles,
  agreements and build rules. Pure: the standard library, pydantic, facekit and common.errors
  only; no boto3, botocore, Powertools or HTTP client, no other common module, no storage or
  edge, no faceflow. The container imports these modules (it has no boto3).
- `storage/`: repositories over DynamoDB and S3 and the other services the flow calls
  (SageMaker runtime, Cognito, CodeBuild, SNS), through common.aws; `storage.keys` is the one key
  schema (object keys and prefixes, table index and TTL names). May import domain, config,
  common and facekit; never edge.
- `edge/`: the pipeline steps, the image build's custom resource and events, the REST API (models,
  route table, each function's work), erasure and seeding. May import domain, storage, config and
  common. A handler is its entry wrapper, a route or event, and one call here.

tests/unit/test_architecture.py checks these rules.
"""
