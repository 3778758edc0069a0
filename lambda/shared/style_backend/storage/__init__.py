"""Repositories of the styling flow over DynamoDB and S3, and the other services the flow calls
(SageMaker runtime, Cognito, CodeBuild, SNS), through common.aws. `keys` is the one key schema
(object keys and prefixes, table index names, composed keys). May import the domain, the config
and common; never the edge. boto3 is imported lazily, so importing a module here loads no SDK
client."""
