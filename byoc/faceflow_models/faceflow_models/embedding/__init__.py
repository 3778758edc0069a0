"""Face identity embeddings: ResNet backbone, ArcFace head, 512-D L2-normalised vectors."""
