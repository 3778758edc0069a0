"""FaceFlow's domain: what happens to an album's photos and faces, without AWS or HTTP.

- `ingest`: one uploaded photo → hashes, EXIF, thumbnail (safe decoding from facekit.imaging);
- `dedupe`: exact and near duplicates within an album, and which copy is kept;
- `clustering`: faces → people (batch, incremental FAISS assignment, the published anchors);
- `people`: an album's people as a curation model (label, merge, split, undo, suggestions) whose
  edits every later assignment and re-clustering respects;
- `metrics`: BCubed and pairwise F of a clustering against labels.

It imports facekit (never style_backend) and never boto3: handlers load and store, this decides.
"""
