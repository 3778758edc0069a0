"""FaceFlow: face grouping for photo albums, in three layers.

- `domain/`: what happens to an album's photos, faces and shares, as pure code (clustering,
  dedupe, people as a curation model, metrics, ingest, errors, statuses, share rules, the ZIP's
  names and entries, the signing crypto). It never imports boto3, botocore,
  aws_lambda_powertools or an HTTP client, nor common.aws/api/observability/config/pagination/
  erasure, faceflow.storage, faceflow.edge or style_backend: stdlib, numpy, Pillow,
  scikit-learn, scikit-image, scipy, faiss, imagehash, cryptography, facekit, pydantic and
  common.errors only (tests/unit/test_architecture.py checks these rules).
- `storage/`: repositories over DynamoDB and S3 (and SES, SNS, Step Functions, Secrets Manager,
  SQS), through common.aws. `storage/keys.py` holds every table key and every object key, and
  no other module spells one. It may import domain, config, common and facekit; never edge.
- `edge/`: what the Lambda handlers call: the pipeline's steps, the API's use cases and views,
  uploads, the starter, the share export and mail flows. It may import domain, storage, config,
  common and facekit.
- `config.py`: the runtime settings (AlbumEnv), each one environment variable.

The handlers (lambda/albums, lambda/sharing) are thin: a route or an event, one faceflow.edge
call, the answer. FaceFlow imports facekit, never style_backend.
"""
