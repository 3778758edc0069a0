"""Face detection: MobileNetV3 backbone, FPN neck, FCOS-style anchor-free head, focal loss."""
