"""The local runtime: the whole backend on 127.0.0.1 with no AWS account (`make up`)."""
