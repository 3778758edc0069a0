"""Verification and clustering quality of an embedder, on an identity tree of aligned crops.

- labelled pairs: every pair of crops in the tree, genuine when both are one identity. ROC (TAR
  against FAR over every threshold) and TAR at fixed FARs.
- labelled album: the tree's crops clustered (average linkage on cosine similarity, cut at the
  threshold where the pairs' FAR is ALBUM_FAR), scored by purity and BCubed precision/recall/F1.

`compare` runs the trained model and the default (SFace, 128-D) side by side.
`python -m faceflow_models.evaluation MODEL_DIR TREE [SFACE_DIR]` prints the same report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from faceflow_models.embedding.identities import read_identities
from faceflow_models.imaging import load_rgb

FARS = (0.01, 0.1)
ALBUM_FAR = 0.1
Embedder = Callable[[np.ndarray], np.ndarray]  # (N, S, S, 3) RGB uint8 → (N, D) unit rows


# Metrics ---------------------------------------------------------------------------------------
def pair_scores(vectors: np.ndarray, labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity of every pair and whether it is genuine."""
    scores, genuine = [], []
    for i, j in combinations(range(len(labels)), 2):
        scores.append(float(vectors[i] @ vectors[j]))
        genuine.append(labels[i] == labels[j])
    return np.array(scores), np.array(genuine, dtype=bool)


def roc(scores: np.ndarray, genuine: np.ndarray) -> list[tuple[float, float, float]]:
    """(threshold, FAR, TAR) at every distinct score, strictest first: accept when ≥ threshold."""
    points = []
    for threshold in np.unique(scores)[::-1]:
        accepted = scores >= threshold
        points.append(
            (float(threshold), float(accepted[~genuine].mean()), float(accepted[genuine].mean()))
        )
    return points


def threshold_at_far(scores: np.ndarray, genuine: np.ndarray, far: float) -> float:
    """The loosest threshold whose FAR does not exceed `far`."""
    best = float("inf")
    for threshold, rate, _ in roc(scores, genuine):
        if rate <= far:
            best = threshold
    return best


def tar_at_far(scores: np.ndarray, genuine: np.ndarray, far: float) -> float:
    threshold = threshold_at_far(scores, genuine, far)
    return float((scores[genuine] >= threshold).mean())


def auc(points: list[tuple[float, float, float]]) -> float:
    fars = np.array([0.0] + [p[1] for p in points] + [1.0])
    tars = np.array([0.0] + [p[2] for p in points] + [1.0])
    return float(np.sum((fars[1:] - fars[:-1]) * (tars[1:] + tars[:-1]) / 2))


def cluster(vectors: np.ndarray, threshold: float) -> list[int]:
    """Average-linkage agglomerative clustering: merge while the closest clusters' mean cosine
    similarity is ≥ threshold. Returns a cluster id per vector."""
    clusters = [[i] for i in range(len(vectors))]
    similarity = vectors @ vectors.T
    while len(clusters) > 1:
        best, pair = -np.inf, None
        for a, b in combinations(range(len(clusters)), 2):
            value = similarity[np.ix_(clusters[a], clusters[b])].mean()
            if value > best:
                best, pair = value, (a, b)
        if best < threshold:
            break
        a, b = pair
        clusters[a] += clusters.pop(b)
    assignment = [0] * len(vectors)
    for cid, members in enumerate(clusters):
        for i in members:
            assignment[i] = cid
    return assignment


def purity(clusters: list[int], labels: list[int]) -> float:
    total = 0
    for cid in set(clusters):
        members = [labels[i] for i, c in enumerate(clusters) if c == cid]
        total += max(members.count(label) for label in set(members))
    return total / len(labels)


def bcubed(clusters: list[int], labels: list[int]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 (Bagga & Baldwin; Amigó et al., 2009)."""
    c, lab = np.array(clusters), np.array(labels)
    same_cluster = c[:, None] == c[None, :]
    same_label = lab[:, None] == lab[None, :]
    both = (same_cluster & same_label).sum(1)
    precision = float(np.mean(both / same_cluster.sum(1)))
    recall = float(np.mean(both / same_label.sum(1)))
    return precision, recall, 2 * precision * recall / (precision + recall)


# Embedders --------------------------------------------------------------------------------------
def trained_embedder(model_dir: Path) -> tuple[Embedder, int]:
    import torch

    from faceflow_models.training import load_exported

    module, meta = load_exported(model_dir)
    size = int(meta["image_size"])

    def embed(crops: np.ndarray) -> np.ndarray:
        from PIL import Image

        batch = np.stack([np.asarray(Image.fromarray(c).resize((size, size))) for c in crops])
        with torch.no_grad():
            tensor = torch.from_numpy(batch.astype(np.float32).transpose(0, 3, 1, 2).copy())
            return module(tensor).numpy()

    return embed, int(meta["dimension"])


# The default model, SFace (OpenCV Zoo, 128-D), loaded minimally here until facekit's embedder
# replaces this block: 112×112 aligned RGB crops in, unit vectors out.
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"


def sface_embedder(models_dir: Path) -> tuple[Embedder, int]:
    import cv2

    net = cv2.dnn.readNetFromONNX(str(models_dir / SFACE_FILE))

    def embed(crops: np.ndarray) -> np.ndarray:
        rows = []
        for crop in crops:
            blob = cv2.dnn.blobFromImage(
                np.ascontiguousarray(crop), 1.0, (112, 112), (0, 0, 0), False, False
            )
            net.setInput(blob, "data")
            vector = net.forward().reshape(-1)
            rows.append(vector / np.linalg.norm(vector))
        return np.stack(rows)

    return embed, 128


# Report ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    name: str
    dimension: int
    pairs: int
    genuine_pairs: int
    auc: float
    tar: dict[float, float]
    roc: list[tuple[float, float, float]]
    album_threshold: float
    clusters: int
    purity: float
    bcubed: tuple[float, float, float]


def evaluate(
    name: str, embed: Embedder, dimension: int, crops: np.ndarray, labels: list[int]
) -> Evaluation:
    vectors = embed(crops)
    if vectors.shape != (len(crops), dimension):
        raise ValueError(f"{name}: {vectors.shape}, expected ({len(crops)}, {dimension})")
    scores, genuine = pair_scores(vectors, labels)
    points = roc(scores, genuine)
    threshold = threshold_at_far(scores, genuine, ALBUM_FAR)
    clusters = cluster(vectors, threshold)
    return Evaluation(
        name=name,
        dimension=dimension,
        pairs=len(scores),
        genuine_pairs=int(genuine.sum()),
        auc=auc(points),
        tar={far: tar_at_far(scores, genuine, far) for far in FARS},
        roc=points,
        album_threshold=threshold,
        clusters=len(set(clusters)),
        purity=purity(clusters, labels),
        bcubed=bcubed(clusters, labels),
    )


def load_tree(tree: Path) -> tuple[np.ndarray, list[int], list[str]]:
    identities = read_identities(tree)
    crops = np.stack(
        [np.asarray(load_rgb(path).resize((112, 112))) for path, _ in identities.samples]
    )
    return crops, [label for _, label in identities.samples], identities.names


def compare(model_dir: Path, tree: Path, sface_dir: Path) -> list[Evaluation]:
    crops, labels, _ = load_tree(tree)
    default, default_dim = sface_embedder(sface_dir)
    trained, trained_dim = trained_embedder(model_dir)
    return [
        evaluate("default (SFace)", default, default_dim, crops, labels),
        evaluate("trained (ResNet+ArcFace)", trained, trained_dim, crops, labels),
    ]


def print_report(results: list[Evaluation]) -> None:
    first = results[0]
    print(f"labelled pairs: {first.pairs} ({first.genuine_pairs} genuine); album: one tree")
    header = [
        "model",
        "dim",
        "AUC",
        *(f"TAR@FAR={far:g}" for far in FARS),
        "clusters",
        "purity",
        "BCubed P/R/F1",
    ]
    print(" | ".join(header))
    for r in results:
        cells = [r.name, str(r.dimension), f"{r.auc:.3f}", *(f"{r.tar[far]:.3f}" for far in FARS)]
        cells += [str(r.clusters), f"{r.purity:.3f}", "/".join(f"{v:.3f}" for v in r.bcubed)]
        print(" | ".join(cells))
    for r in results:
        steps = [*r.roc[:: max(1, len(r.roc) // 8)], r.roc[-1]]
        print(
            f"ROC {r.name}: " + " ".join(f"(FAR {far:.2f}, TAR {tar:.2f})" for _, far, tar in steps)
        )
    print(f"embedding dimension (trained): {results[-1].dimension}")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(
            "usage: python -m faceflow_models.evaluation MODEL_DIR TREE [SFACE_DIR]",
            file=sys.stderr,
        )
        return 2
    sface_dir = Path(argv[2]) if len(argv) == 3 else Path(argv[0])
    print_report(compare(Path(argv[0]), Path(argv[1]), sface_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
