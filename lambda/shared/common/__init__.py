"""What both products (style_backend, faceflow) need of AWS and of Lambda, and nothing of either.

- `aws`: boto3 clients and tables, transient/throttling/conditional errors, retries;
- `config`: reading settings from environment variables;
- `observability`: Powertools logger, tracer, metrics and `lambda_entry`, the wrapper of every
  handler;
- `errors`: the one error model (a code and a message, no HTTP status);
- `api`: the REST API's edge, the only module that maps error codes to HTTP statuses;
- `pagination`: every listing's `nextToken`;
- `erasure`: the registry through which erasing a user reaches each product.

It imports neither product: products import it.
"""
