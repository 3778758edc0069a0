"""The face package both systems share: safe image decoding, format sniffing, face detection,
landmarks, alignment and identity embeddings, and where their model files live.

The styling flow (`style_backend`), FaceFlow, the FaceChain container and the local runtime all
import it; it imports neither of them, nor boto3. Importing this package itself loads nothing
heavy, so the stacks and handlers without the imaging layer can read its constants.
"""

from __future__ import annotations

# Environment variable naming the folder of model files (the imaging layer's /opt/face_models,
# the container's baked folder). Unset: the registry packages installed beside this one.
MODELS_DIR_ENV = "FACE_MODELS_DIR"
