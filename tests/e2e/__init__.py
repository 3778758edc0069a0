"""End-to-end tests: the local runtime (`make up`) driven over HTTP, some through a browser."""
