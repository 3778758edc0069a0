"""Target assignment (FCOS) and the detection loss: sigmoid focal loss + GIoU on positives."""

from __future__ import annotations

import torch

from faceflow_models.detection.model import STRIDES, distances_to_boxes, flatten_levels

# Box sizes (longest side of the ltrb distances, pixels) each level is responsible for.
LEVEL_RANGES = ((0.0, 64.0), (64.0, 128.0), (128.0, float("inf")))
CENTER_RADIUS = 1.5  # positives: locations within this many strides of a box's centre


def sigmoid_focal_loss(logits, targets, alpha: float = 0.25, gamma: float = 2.0):
    """Summed focal loss (Lin et al., 2017): easy negatives, the vast majority, weigh ~nothing."""
    p = torch.sigmoid(logits)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * ce * (1 - p_t) ** gamma).sum()


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Summed 1 − GIoU of matching x1 y1 x2 y2 boxes."""
    lt = torch.maximum(pred[:, :2], target[:, :2])
    rb = torch.minimum(pred[:, 2:], target[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_p = (pred[:, 2:] - pred[:, :2]).clamp(min=0).prod(-1)
    area_t = (target[:, 2:] - target[:, :2]).clamp(min=0).prod(-1)
    union = (area_p + area_t - inter).clamp(min=1e-6)
    enclose = torch.maximum(pred[:, 2:], target[:, 2:]) - torch.minimum(pred[:, :2], target[:, :2])
    enclose_area = enclose.clamp(min=0).prod(-1).clamp(min=1e-6)
    giou = inter / union - (enclose_area - union) / enclose_area
    return (1 - giou).sum()


def assign(points: torch.Tensor, level_of_point: torch.Tensor, boxes: torch.Tensor):
    """One image: for each location, the index of the face it must predict, or -1.

    A location is positive for a box when it lies inside it, within CENTER_RADIUS strides of its
    centre, and the box's size falls in the location's level range; ties go to the smallest box.
    """
    if boxes.numel() == 0:
        return torch.full((len(points),), -1, dtype=torch.long)
    x, y = points[:, 0:1], points[:, 1:2]
    ltrb = torch.stack([x - boxes[:, 0], y - boxes[:, 1], boxes[:, 2] - x, boxes[:, 3] - y], -1)
    inside = ltrb.min(-1).values > 0
    strides = torch.tensor(STRIDES, dtype=torch.float32)[level_of_point].unsqueeze(1)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    radius = strides * CENTER_RADIUS
    central = ((x - cx).abs() < radius) & ((y - cy).abs() < radius)
    reach = ltrb.max(-1).values
    ranges = torch.tensor(LEVEL_RANGES)[level_of_point]
    in_range = (reach >= ranges[:, 0:1]) & (reach <= ranges[:, 1:2])
    candidate = inside & central & in_range
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).expand_as(reach)
    area = torch.where(candidate, area, torch.full_like(area, float("inf")))
    best_area, best = area.min(1)
    return torch.where(torch.isfinite(best_area), best, torch.full_like(best, -1))


def detection_loss(outputs, targets: list[torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """outputs: FaceDetector's per-level maps; targets: per image an (F, 4) x1 y1 x2 y2 tensor."""
    logits, ltrb, points = flatten_levels(outputs)
    sizes = [cls.shape[-2] * cls.shape[-1] for cls, _ in outputs]
    level_of_point = torch.cat([torch.full((n,), i, dtype=torch.long) for i, n in enumerate(sizes)])
    cls_targets = torch.zeros_like(logits)
    pred_boxes, true_boxes = [], []
    for i, boxes in enumerate(targets):
        matched = assign(points, level_of_point, boxes)
        positive = matched >= 0
        cls_targets[i, positive] = 1.0
        if positive.any():
            pred_boxes.append(distances_to_boxes(points[positive], ltrb[i, positive]))
            true_boxes.append(boxes[matched[positive]])
    positives = max(float(cls_targets.sum()), 1.0)
    focal = sigmoid_focal_loss(logits, cls_targets) / positives
    if pred_boxes:
        box = giou_loss(torch.cat(pred_boxes), torch.cat(true_boxes)) / positives
    else:
        box = logits.sum() * 0.0
    parts = {"focal": float(focal.detach()), "giou": float(box.detach()), "positives": positives}
    return focal + box, parts
