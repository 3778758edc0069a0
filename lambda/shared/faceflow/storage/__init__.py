"""FaceFlow's storage: the album table and buckets, and the AWS services FaceFlow calls.

- `keys`: every table key and object key (the one key schema);
- `table`, `objects`: the table and bucket clients, conditional writes, prefix deletion;
- `albums` (with the user erasure's part), `photos`, `jobs`, `faces`, `people` (the versioned
  people state), `shares`: one repository per kind of item;
- `uploads`, `exports`: the raw bucket's uploads, the exports bucket's share build;
- `messages`: Step Functions, SNS, SQS, SES; `signing_keys`: the signing key in Secrets Manager.
"""
