"""Quality of a clustering against identity labels: BCubed and pairwise precision/recall/F.

BCubed (Amigó et al. 2009) averages, over faces, how much of a face's cluster shares its label
(precision) and how much of its label shares its cluster (recall), so singletons count: a face
left alone is recall lost, not ignored. Pairwise counts same-cluster pairs against same-label
pairs (every pair of the same person counts, so large identities weigh more).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float

    @property
    def f(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def bcubed(clusters: Sequence, labels: Sequence) -> Scores:
    if len(clusters) != len(labels) or not labels:
        raise ValueError("one cluster and one label per face, at least one face")
    both = Counter(zip(clusters, labels, strict=True))
    per_cluster, per_label = Counter(clusters), Counter(labels)
    n = len(labels)
    precision = sum(both[(c, lab)] ** 2 / per_cluster[c] for c, lab in both) / n
    recall = sum(both[(c, lab)] ** 2 / per_label[lab] for c, lab in both) / n
    return Scores(precision, recall)


def pairwise(clusters: Sequence, labels: Sequence) -> Scores:
    """Precision: same-cluster pairs that share a label; recall: same-label pairs clustered
    together. No pair at all on one side counts as perfect on that side."""
    if len(clusters) != len(labels):
        raise ValueError("one cluster and one label per face")

    def pairs(counts) -> int:
        return sum(k * (k - 1) // 2 for k in counts.values())

    both = pairs(Counter(zip(clusters, labels, strict=True)))
    in_cluster, in_label = pairs(Counter(clusters)), pairs(Counter(labels))
    return Scores(both / in_cluster if in_cluster else 1.0, both / in_label if in_label else 1.0)
