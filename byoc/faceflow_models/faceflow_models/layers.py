"""Building blocks both networks share (plain torch.nn: no torchvision)."""

from __future__ import annotations

from torch import nn


def make_divisible(value: float, divisor: int = 8) -> int:
    """Channel counts rounded to a multiple of `divisor`, never more than 10% below `value`."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn(
    cin: int,
    cout: int,
    kernel: int = 3,
    stride: int = 1,
    groups: int = 1,
    act: nn.Module | None = None,
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Channel attention of MobileNetV3: global pool → bottleneck → hard-sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = make_divisible(channels / reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x):
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
