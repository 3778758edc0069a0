"""What the Lambda handlers call: one function per step of the pipeline (face crop, face swap,
completion, dead letters), the image build's custom resource and events, the REST API (models,
route table, one module per API function's work), erasure and seeding. May import the domain,
storage, the config and common."""
