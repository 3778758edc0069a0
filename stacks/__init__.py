"""CDK stacks of Style Backend, one package per concern.

The stacks name environment variables, object keys and routes with the styling package's own
definitions (`style_backend.config`, `storage.keys`, `edge.api.routes`): it lives in
lambda/shared, which is put on sys.path here for every caller (the CLI's `python app.py`, tests,
the local runtime).
"""

import sys
from pathlib import Path

_SHARED = str(Path(__file__).resolve().parents[1] / "lambda" / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)
