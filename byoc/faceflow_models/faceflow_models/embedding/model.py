"""ResNet for 112×112 aligned faces (the "IR" layout ArcFace uses: stride-1 stem, BN-Dropout-FC-BN
output), and the ArcFace additive angular margin head that trains it.

`FaceEmbedder` maps RGB 0–255 crops to L2-normalised EMBEDDING_DIM vectors: it is what is
exported and served. `ArcFace` exists only during training.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from faceflow_models import EMBEDDING_DIM
from faceflow_models.layers import conv_bn

RESNET_18 = (2, 2, 2, 2)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn(cin, cout, 3, stride, act=nn.PReLU(cout)), conv_bn(cout, cout, 3)
        )
        self.shortcut = (
            nn.Identity() if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride)
        )
        self.act = nn.PReLU(cout)

    def forward(self, x):
        return self.act(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(
        self, layers=RESNET_18, width: int = 64, image_size: int = 112, dropout: float = 0.0
    ):
        super().__init__()
        self.stem = conv_bn(3, width, 3, 1, act=nn.PReLU(width))
        stages, cin = [], width
        for i, blocks in enumerate(layers):
            cout = width * 2**i
            for b in range(blocks):
                stages.append(BasicBlock(cin, cout, 2 if b == 0 else 1))
                cin = cout
        self.stages = nn.Sequential(*stages)
        side = image_size // 2 ** len(layers)
        self.output = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(cin * side * side, EMBEDDING_DIM),
            nn.BatchNorm1d(EMBEDDING_DIM),
        )

    def forward(self, x):
        return self.output(self.stages(self.stem(x)))


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """RGB 0–255 → roughly [-1, 1], as the network trains and serves."""
    return (images - 127.5) / 128.0


class FaceEmbedder(nn.Module):
    """(N, 3, S, S) RGB 0–255 → (N, 512) unit vectors."""

    def __init__(self, backbone: ResNet) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.backbone(preprocess(images)), dim=1)


class ArcFace(nn.Module):
    """logits = s·cos(θ + m) for the true identity, s·cos θ for the others (Deng et al., 2019)."""

    def __init__(self, identities: int, scale: float = 64.0, margin: float = 0.5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(identities, EMBEDDING_DIM))
        nn.init.xavier_uniform_(self.weight)
        self.scale, self.margin = scale, margin
        self.cos_m, self.sin_m = math.cos(margin), math.sin(margin)
        # Past θ = π − m, cos(θ + m) stops decreasing: fall back to a linear penalty there.
        self.threshold = math.cos(math.pi - margin)
        self.fallback = math.sin(math.pi - margin) * margin

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cosine = nn.functional.linear(
            nn.functional.normalize(embeddings, dim=1), nn.functional.normalize(self.weight, dim=1)
        ).clamp(-1 + 1e-7, 1 - 1e-7)
        sine = torch.sqrt(1.0 - cosine**2)
        with_margin = cosine * self.cos_m - sine * self.sin_m
        with_margin = torch.where(cosine > self.threshold, with_margin, cosine - self.fallback)
        one_hot = nn.functional.one_hot(labels, cosine.shape[1]).to(cosine.dtype)
        logits = self.scale * (one_hot * with_margin + (1 - one_hot) * cosine)
        return nn.functional.cross_entropy(logits, labels)
