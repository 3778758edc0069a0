"""MobileNetV3 (Small) + FPN + a shared anchor-free head, in plain torch.nn.

The head predicts, at every location of P3–P5 (strides 8, 16, 32), a face logit and the distances
from that location to the four sides of the face's box (FCOS). `FaceDetector.forward` returns the
raw per-level maps for the loss; `DecodedDetector` (what is exported) returns, for every location
of every level, the box in input pixels and the face probability, so a consumer only thresholds
and runs NMS.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from faceflow_models.layers import SqueezeExcite, conv_bn, make_divisible

# MobileNetV3-Small: (kernel, expansion, out channels, squeeze-excite, hard-swish, stride).
MOBILENET_V3_SMALL = (
    (3, 16, 16, True, False, 2),
    (3, 72, 24, False, False, 2),
    (3, 88, 24, False, False, 1),  # → C3, stride 8
    (5, 96, 40, True, True, 2),
    (5, 240, 40, True, True, 1),
    (5, 240, 40, True, True, 1),
    (5, 120, 48, True, True, 1),
    (5, 144, 48, True, True, 1),  # → C4, stride 16
    (5, 288, 96, True, True, 2),
    (5, 576, 96, True, True, 1),
    (5, 576, 96, True, True, 1),  # → C5, stride 32
)
FEATURE_BLOCKS = (2, 7, 10)  # indices of the blocks whose outputs feed the FPN
STRIDES = (8, 16, 32)
# ImageNet statistics: inputs arrive as RGB 0–255 and are normalised inside the network.
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


class InvertedResidual(nn.Module):
    def __init__(
        self, cin: int, kernel: int, hidden: int, cout: int, se: bool, hs: bool, stride: int
    ):
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        layers: list[nn.Module] = []
        if hidden != cin:
            layers.append(conv_bn(cin, hidden, 1, act=act(inplace=True)))
        layers.append(conv_bn(hidden, hidden, kernel, stride, groups=hidden, act=act(inplace=True)))
        if se:
            layers.append(SqueezeExcite(hidden))
        layers.append(conv_bn(hidden, cout, 1))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        out = self.block(x)
        return x + out if self.residual else out


class MobileNetV3Small(nn.Module):
    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        stem = make_divisible(16 * width)
        self.stem = conv_bn(3, stem, 3, 2, act=nn.Hardswish(inplace=True))
        blocks, cin, self.out_channels = [], stem, []
        for i, (k, exp, out, se, hs, stride) in enumerate(MOBILENET_V3_SMALL):
            cout = make_divisible(out * width)
            blocks.append(
                InvertedResidual(cin, k, make_divisible(exp * width), cout, se, hs, stride)
            )
            cin = cout
            if i in FEATURE_BLOCKS:
                self.out_channels.append(cout)
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x) -> list[torch.Tensor]:
        x = self.stem(x)
        features = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in FEATURE_BLOCKS:
                features.append(x)
        return features


class FPN(nn.Module):
    """Top-down pathway with lateral 1×1 convs and a 3×3 smoothing conv per level."""

    def __init__(self, in_channels: list[int], channels: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.smooth = nn.ModuleList(
            conv_bn(channels, channels, 3, act=nn.ReLU(inplace=True)) for _ in in_channels
        )

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        laterals = [conv(f) for conv, f in zip(self.lateral, features, strict=True)]
        for i in range(len(laterals) - 2, -1, -1):
            laterals[i] = laterals[i] + nn.functional.interpolate(
                laterals[i + 1], size=laterals[i].shape[-2:], mode="nearest"
            )
        return [smooth(p) for smooth, p in zip(self.smooth, laterals, strict=True)]


class Head(nn.Module):
    """Shared across levels; a learnt scale per level keeps box distances in a sane range."""

    def __init__(self, channels: int, depth: int = 2, prior: float = 0.01) -> None:
        super().__init__()
        tower = [conv_bn(channels, channels, 3, act=nn.ReLU(inplace=True)) for _ in range(depth)]
        self.tower = nn.Sequential(*tower)
        self.cls = nn.Conv2d(channels, 1, 3, padding=1)
        self.box = nn.Conv2d(channels, 4, 3, padding=1)
        self.scales = nn.Parameter(torch.ones(len(STRIDES)))
        # Focal loss starts from "everything is background" (RetinaNet's prior), not 50/50.
        nn.init.constant_(self.cls.bias, -math.log((1 - prior) / prior))

    def forward(self, features: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        out = []
        for level, feature in enumerate(features):
            t = self.tower(feature)
            # ltrb distances in units of the level's stride, always positive.
            out.append((self.cls(t), torch.exp(self.scales[level] * self.box(t))))
        return out


class FaceDetector(nn.Module):
    def __init__(self, width: float = 1.0, fpn_channels: int = 64) -> None:
        super().__init__()
        self.backbone = MobileNetV3Small(width)
        self.fpn = FPN(self.backbone.out_channels, fpn_channels)
        self.head = Head(fpn_channels)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """images: (N, 3, H, W) RGB 0–255, H and W multiples of 32."""
        return self.head(self.fpn(self.backbone((images - self.mean) / self.std)))


def level_points(height: int, width: int, stride: int, device=None) -> torch.Tensor:
    """(H·W, 2) x, y centres of a level's locations in input pixels."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) * stride
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def flatten_levels(outputs, strides=STRIDES) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-level maps → (N, L) logits, (N, L, 4) ltrb in pixels, (L, 2) points."""
    logits, distances, points = [], [], []
    for (cls, box), stride in zip(outputs, strides, strict=True):
        n, _, h, w = cls.shape
        logits.append(cls.reshape(n, h * w))
        distances.append(box.permute(0, 2, 3, 1).reshape(n, h * w, 4) * stride)
        points.append(level_points(h, w, stride, cls.device))
    return torch.cat(logits, 1), torch.cat(distances, 1), torch.cat(points, 0)


def distances_to_boxes(points: torch.Tensor, ltrb: torch.Tensor) -> torch.Tensor:
    x, y = points[..., 0], points[..., 1]
    return torch.stack([x - ltrb[..., 0], y - ltrb[..., 1], x + ltrb[..., 2], y + ltrb[..., 3]], -1)


class DecodedDetector(nn.Module):
    """What is exported: images → (boxes (N, L, 4) x1 y1 x2 y2 in pixels, scores (N, L))."""

    def __init__(self, detector: FaceDetector) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, ltrb, points = flatten_levels(self.detector(images))
        return distances_to_boxes(points.unsqueeze(0), ltrb), torch.sigmoid(logits)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices kept by greedy non-maximum suppression, highest score first."""
    order = scores.argsort(descending=True)
    keep = []
    while order.numel():
        best = order[0]
        keep.append(int(best))
        if order.numel() == 1:
            break
        rest = order[1:]
        overlap = box_iou(boxes[best].unsqueeze(0), boxes[rest])[0]
        order = rest[overlap <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(A, B) IoU of x1 y1 x2 y2 boxes."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-6)


def detect(
    boxes: torch.Tensor, scores: torch.Tensor, threshold: float = 0.5, iou_threshold: float = 0.4
) -> list[tuple[list[float], float]]:
    """One image's exported outputs → [(box, score)], best first."""
    mask = scores >= threshold
    boxes, scores = boxes[mask], scores[mask]
    keep = nms(boxes, scores, iou_threshold)
    return [(boxes[i].tolist(), float(scores[i])) for i in keep]
