"""FaceFlow's domain: what happens to an album's photos, faces and shares, as pure code.

No AWS, no HTTP, no storage: stdlib, numpy, Pillow, scikit-learn, faiss, imagehash,
cryptography, facekit, pydantic and common.errors only (faceflow/__init__.py has the rules).

- `ingest`: one uploaded photo → hashes, EXIF, thumbnail (safe decoding from facekit.imaging);
- `dedupe`: exact and near duplicates within an album, which copy is kept, the pairs kept apart;
- `clustering`: faces → people (batch, incremental FAISS assignment, the published anchors);
- `people`: an album's people as a curation model (label, merge, split, undo, suggestions) whose
  edits every later assignment and re-clustering respects;
- `metrics`: BCubed and pairwise F of a clustering against labels;
- `errors`: what FaceFlow refuses (AlbumError and its kinds), each a DomainError with a code;
- `statuses`: the photo, job and share status values; `ids`: ids and timestamps;
- `uploads`: what an upload may be (types, size, parts); `shares`: a share's rules (recipients,
  people, expiry, rate window, status); `share_mail`: the share email's template and values;
- `archive`: a share's ZIP (safe unique names, the stored entries, each checked);
- `location`: where a photo was taken (EXIF GPS, XMP location) removed from its bytes, its
  pixels untouched (what a share ships unless it keeps the location);
- `signing`: CloudFront signed URLs (the crypto; the key is storage's to read).
"""
