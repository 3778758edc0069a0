"""What FaceFlow's Lambda handlers call: one function per route or event.

- `albums`, `uploads`, `duplicates`, `people`, `shares`: the REST API's use cases and views;
- `starter`: uploads → jobs started; `pipeline`, `face_steps`: the state machine's steps;
- `exporter`, `share_mail`: a share's build and its emails; `signing_keys`: the signing key
  custom resource's key pair.
"""
