"""The styling flow's rules, pure: statuses and transitions, failures and refusals, upload, swap,
results, styles and agreements rules. Imports the standard library, pydantic, facekit and
common.errors only: no AWS SDK, no Powertools, no storage or edge of this package. The FaceChain
container imports these modules (it has no boto3)."""
