"""FaceFlow's own face models, trained from scratch: a MobileNetV3 + FPN face detector (focal
loss) and a ResNet + ArcFace 512-D identity embedder. One package for the training job, the
processing job and the inference endpoint (see ../README.md)."""

EMBEDDING_DIM = 512
