"""An album's people: faces grouped into clusters, and the user's corrections as constraints.

`AlbumPeople` is the whole curation model, in memory, with no storage: a handler loads the
album's faces (vectors from `embeddings/`) and state, calls one operation, stores the result.

- `add_faces`: immediate assignment of new faces (FAISS nearest centroid, ASSIGN_THRESHOLD),
  never moving a face already placed; a face with no cluster near enough founds its own.
- `recluster`: the batch algorithm over every face, keeping cluster ids (and so labels) stable by
  overlap, and every constraint the edits recorded.
- `label`, `merge` (a must-link), `split` ("not this person": a cannot-link between the split
  faces and the rest), each an `Edit` in the log; `undo` reverts the latest.
- `suggestions`: other clusters ranked by centroid similarity, those it may not join left out.

Invariants: every face is in exactly one cluster; two faces of one photo never share one; a
low-quality face never founds a cluster others join; a split never comes back together.
Ids are derived from face ids, so replaying the same calls gives the same ids (idempotent steps).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from common.errors import DomainError
from faceflow.domain.clustering import (
    ASSIGN_THRESHOLD,
    DEFAULT_ALGORITHM,
    CentroidIndex,
    Constraints,
    constrained_clusters,
    normalised,
)

LABEL, MERGE, SPLIT = "LABEL", "MERGE", "SPLIT"
MAX_LABEL = 100
# A label holds something besides what str.strip() removes (str.isspace, spelled out: the API
# document's pattern is read by ECMA-262 regexes, whose \s is another set). Unanchored: a match
# anywhere in the name is enough.
LABEL_PATTERN = r"[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class EditRefused(DomainError):
    """An edit that cannot be made: NOT_FOUND, CONFLICT, NOTHING_TO_UNDO or VALIDATION_ERROR."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code)


@dataclass(frozen=True)
class FaceEntry:
    face_id: str
    photo_id: str
    vector: np.ndarray  # embedder output (normalised again here)
    low_quality: bool = False


@dataclass
class Edit:
    edit_id: str
    type: str
    cluster_id: str  # the cluster the edit produced or named
    moves: dict[str, tuple[str, str]] = field(default_factory=dict)  # face → (before, after)
    labels: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    added_together: list[frozenset[str]] = field(default_factory=list)
    removed_together: list[frozenset[str]] = field(default_factory=list)
    added_apart: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)
    removed_apart: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)

    def as_item(self) -> dict:
        return {"editId": self.edit_id, "type": self.type, "clusterId": self.cluster_id}


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    label: str | None
    face_ids: tuple[str, ...]
    confidence: float  # mean cosine similarity of its good faces to their centroid (1: alone)

    @property
    def size(self) -> int:
        return len(self.face_ids)


class AlbumPeople:
    def __init__(
        self,
        *,
        algorithm: str = DEFAULT_ALGORITHM,
        assign_threshold: float = ASSIGN_THRESHOLD,
        taken: Callable[[str], bool] | None = None,
    ) -> None:
        self.algorithm = algorithm
        # Cluster ids in use beyond the faces held: an album loaded in part (a slice) asks its
        # store, so a new cluster never takes the id of one it did not load.
        self._taken = taken or (lambda _cluster_id: False)
        self.assign_threshold = assign_threshold
        self.faces: dict[str, FaceEntry] = {}
        self.cluster_of: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.together: list[frozenset[str]] = []
        self.apart: list[tuple[frozenset[str], frozenset[str]]] = []
        self.edits: list[Edit] = []
        self._edit_count = 0
        # add_faces' index and members, valid until anything else changes a cluster
        self._assigning: tuple[CentroidIndex, dict[str, list[str]]] | None = None

    # ---- reading -------------------------------------------------------------------------

    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for face_id, cluster_id in self.cluster_of.items():
            out.setdefault(cluster_id, []).append(face_id)
        return out

    def _vector(self, face_id: str) -> np.ndarray:
        return normalised(self.faces[face_id].vector.reshape(1, -1))[0]

    def _centroid(self, face_ids: Iterable[str]) -> np.ndarray | None:
        good = [f for f in face_ids if not self.faces[f].low_quality]
        if not good:
            return None
        return np.sum([self._vector(f) for f in good], axis=0)

    def clusters(self) -> list[Cluster]:
        """Every cluster, largest first (then by id, for a stable order)."""
        out = []
        for cluster_id, face_ids in self.members().items():
            centroid = self._centroid(face_ids)
            good = [f for f in face_ids if not self.faces[f].low_quality]
            if centroid is None or len(good) < 2:
                confidence = 1.0
            else:
                unit = centroid / np.linalg.norm(centroid)
                confidence = float(np.mean([self._vector(f) @ unit for f in good]))
            out.append(
                Cluster(
                    cluster_id=cluster_id,
                    label=self.labels.get(cluster_id),
                    face_ids=tuple(sorted(face_ids)),
                    confidence=round(confidence, 4),
                )
            )
        out.sort(key=lambda c: (-c.size, c.cluster_id))
        return out

    def cluster(self, cluster_id: str) -> Cluster:
        for c in self.clusters():
            if c.cluster_id == cluster_id:
                return c
        raise EditRefused("NOT_FOUND", f"No cluster {cluster_id} in this album.")

    # ---- constraints ---------------------------------------------------------------------

    def _apart_of(self, face_id: str) -> set[str]:
        out: set[str] = set()
        for left, right in self.apart:
            if face_id in left:
                out |= right
            elif face_id in right:
                out |= left
        return out

    def _clash(self, members: Iterable[str], newcomers: Iterable[str]) -> bool:
        members = set(members)
        photos = {self.faces[m].photo_id for m in members}
        return any(
            self.faces[f].photo_id in photos or self._apart_of(f) & members for f in newcomers
        )

    def _fresh_cluster_id(self, seed_face: str, members: dict | None = None) -> str:
        members = self.members() if members is None else members
        candidate, n = f"C-{seed_face}", 1
        while candidate in members or candidate in self.labels or self._taken(candidate):
            n += 1
            candidate = f"C-{seed_face}-{n}"
        return candidate

    # ---- assignment ----------------------------------------------------------------------

    def _centroid_index(self, dim: int) -> tuple[CentroidIndex, dict[str, list[str]]]:
        """The FAISS index of clusters with a good face, and every cluster's members: kept
        between calls of add_faces, rebuilt (vectorised) after any other change."""
        if self._assigning is None or self._assigning[0].dim != dim:
            members = self.members()
            good = [f for f in self.cluster_of if not self.faces[f].low_quality]
            if good:
                vectors = np.stack([self.faces[f].vector for f in good])
                index = CentroidIndex.of([self.cluster_of[f] for f in good], vectors)
            else:
                index = CentroidIndex(dim)
            self._assigning = (index, members)
        return self._assigning

    def add_faces(
        self, faces: Sequence[FaceEntry], index: CentroidIndex | None = None
    ) -> dict[str, str]:
        """Place new faces at once (known face ids are left where they are: a retried step adds
        nothing twice). Good faces first, so a photo's low-quality faces can join them.
        `index`: the album's centroids when this holds only a slice of it (a store's warm index;
        it moves with the faces placed)."""
        new = [f for f in faces if f.face_id not in self.faces]
        if not new:
            return {}
        if index is not None:
            self._assigning = (index, self.members())
        dims = {f.vector.shape[-1] for f in new}
        if self.faces:
            dims.add(next(iter(self.faces.values())).vector.shape[-1])
        if len(dims) > 1:
            raise ValueError(
                f"vectors of several dimensions {sorted(dims)}: one embedder per album"
            )
        index, members = self._centroid_index(dims.pop())
        placed: dict[str, str] = {}
        for f in sorted(new, key=lambda f: (f.low_quality, f.photo_id, f.face_id)):
            self.faces[f.face_id] = f
            vector = self._vector(f.face_id)
            target = None
            for cluster_id, sim in index.nearest(vector, k=16):
                if sim < self.assign_threshold:
                    break
                if not self._clash(members.get(cluster_id, []), [f.face_id]):
                    target = cluster_id
                    break
            if target is None:
                target = self._fresh_cluster_id(f.face_id, members)
            self.cluster_of[f.face_id] = target
            members.setdefault(target, []).append(f.face_id)
            if not f.low_quality:
                index.add_to(target, vector)
            placed[f.face_id] = target
        return placed

    def recluster(self) -> None:
        """Cluster every face again with the batch algorithm, under every recorded constraint.
        Each new cluster takes the id (and label) of the old cluster it overlaps most."""
        self._assigning = None
        ids = sorted(self.faces)
        if not ids:
            return
        groups = constrained_clusters(
            np.stack([self.faces[f].vector for f in ids]),
            [self.faces[f].low_quality for f in ids],
            self._constraints(ids),
            algorithm=self.algorithm,
            assign_threshold=self.assign_threshold,
        )
        new_id, used = self._ids_kept(ids, groups)
        cluster_of: dict[str, str] = {}
        for k, group in enumerate(groups):
            if k not in new_id:
                new_id[k] = _fresh_id(min(ids[i] for i in group), used)
                used.add(new_id[k])
            for i in group:
                cluster_of[ids[i]] = new_id[k]
        self.cluster_of = cluster_of
        self.labels = {c: name for c, name in self.labels.items() if c in used}

    def _constraints(self, ids: list[str]) -> Constraints:
        """The recorded must-links and cannot-links over the faces' indexes in `ids`."""
        at = {f: i for i, f in enumerate(ids)}
        return Constraints(
            photo_of=[self.faces[f].photo_id for f in ids],
            together=[frozenset(at[f] for f in group if f in at) for group in self.together],
            apart=[
                (frozenset(at[f] for f in a if f in at), frozenset(at[f] for f in b if f in at))
                for a, b in self.apart
            ],
        )

    def _ids_kept(self, ids: list[str], groups: list[list[int]]) -> tuple[dict[int, str], set[str]]:
        """The old cluster id each new group keeps (labelled clusters claim theirs first, then
        the larger overlaps), and the ids so taken."""
        overlaps = []
        for k, group in enumerate(groups):
            counts = Counter(self.cluster_of.get(ids[i]) for i in group)
            for old, count in counts.items():
                if old is not None:
                    overlaps.append((old not in self.labels, -count, old, k))
        overlaps.sort()
        new_id: dict[int, str] = {}
        used: set[str] = set()
        for _, _, old, k in overlaps:
            if k not in new_id and old not in used:
                new_id[k], used = old, used | {old}
        return new_id, used

    # ---- edits ---------------------------------------------------------------------------

    def _record(self, edit_type: str, cluster_id: str) -> Edit:
        self._edit_count += 1
        return Edit(edit_id=f"E{self._edit_count:06d}", type=edit_type, cluster_id=cluster_id)

    def label(self, cluster_id: str, name: str) -> Edit:
        name = (name or "").strip()
        if not 1 <= len(name) <= MAX_LABEL:
            raise EditRefused("VALIDATION_ERROR", f"A name is 1–{MAX_LABEL} characters.")
        face_ids = self.members().get(cluster_id)
        if not face_ids:
            raise EditRefused("NOT_FOUND", f"No cluster {cluster_id} in this album.")
        edit = self._record(LABEL, cluster_id)
        edit.labels[cluster_id] = (self.labels.get(cluster_id), name)
        self.labels[cluster_id] = name
        if len(face_ids) > 1:  # naming confirms the grouping: re-clustering keeps it together
            group = frozenset(face_ids)
            self.together.append(group)
            edit.added_together.append(group)
        self.edits.append(edit)
        return edit

    def merge(self, cluster_ids: Sequence[str]) -> Edit:
        """One cluster of several (a must-link over all their faces). The survivor is the
        labelled one if only one is, else the largest, else the first named."""
        self._assigning = None
        wanted = list(dict.fromkeys(cluster_ids))
        members = self._mergeable(wanted)
        labelled = [c for c in wanted if c in self.labels]
        survivor = (
            labelled[0]
            if len(labelled) == 1
            else max(wanted, key=lambda c: (len(members[c]), -wanted.index(c)))
        )
        edit = self._record(MERGE, survivor)
        faces = frozenset(f for c in wanted for f in members[c])
        self._move_into(survivor, wanted, members, edit)
        if survivor not in self.labels and labelled:
            edit.labels[survivor] = (None, self.labels[labelled[0]])
            self.labels[survivor] = self.labels[labelled[0]]
        # The user's latest word wins: "not this person" records between these faces go.
        for record in list(self.apart):
            if record[0] & faces and record[1] & faces:
                self.apart.remove(record)
                edit.removed_apart.append(record)
        self.together.append(faces)
        edit.added_together.append(faces)
        self.edits.append(edit)
        return edit

    def _mergeable(self, wanted: list[str]) -> dict[str, list[str]]:
        """The members of every cluster, once the clusters may be merged (EditRefused else:
        fewer than two, an unknown one, two faces of one photo)."""
        if len(wanted) < 2:
            raise EditRefused("VALIDATION_ERROR", "Merge needs two or more different clusters.")
        members = self.members()
        missing = [c for c in wanted if c not in members]
        if missing:
            raise EditRefused("NOT_FOUND", f"No cluster {missing[0]} in this album.")
        photos = Counter(self.faces[f].photo_id for c in wanted for f in members[c])
        if any(n > 1 for n in photos.values()):
            raise EditRefused(
                "CONFLICT", "These clusters hold two faces of one photo: they are two people."
            )
        return members

    def _move_into(
        self, survivor: str, wanted: list[str], members: dict[str, list[str]], edit: Edit
    ) -> None:
        """Every face of the other clusters into the survivor, their labels dropped (recorded)."""
        for c in wanted:
            if c == survivor:
                continue
            for f in members[c]:
                edit.moves[f] = (c, survivor)
                self.cluster_of[f] = survivor
            if c in self.labels:
                edit.labels[c] = (self.labels.pop(c), None)

    def split(self, cluster_id: str, face_ids: Sequence[str]) -> Edit:
        """Those faces leave into a new cluster, recorded as not the same person as the rest."""
        self._assigning = None
        members = self.members().get(cluster_id)
        if not members:
            raise EditRefused("NOT_FOUND", f"No cluster {cluster_id} in this album.")
        leaving = frozenset(face_ids)
        if not leaving or not leaving <= set(members):
            raise EditRefused(
                "VALIDATION_ERROR", "Split faces must be some of this cluster's faces."
            )
        staying = frozenset(members) - leaving
        if not staying:
            raise EditRefused(
                "VALIDATION_ERROR", "Split at least one face less than the whole cluster."
            )
        new_id = self._fresh_cluster_id(min(leaving))
        edit = self._record(SPLIT, new_id)
        for f in sorted(leaving):
            edit.moves[f] = (cluster_id, new_id)
            self.cluster_of[f] = new_id
        for record in list(self.together):
            if record & leaving and record & staying:
                self.together.remove(record)
                edit.removed_together.append(record)
                if len(record - leaving) > 1:
                    self.together.append(record - leaving)
                    edit.added_together.append(record - leaving)
        self.apart.append((leaving, staying))
        edit.added_apart.append((leaving, staying))
        self.edits.append(edit)
        return edit

    def undo(self) -> Edit:
        """Revert the latest edit still in the log (moves, labels and constraints)."""
        self._assigning = None
        if not self.edits:
            raise EditRefused("NOTHING_TO_UNDO", "There is no edit left to undo.")
        edit = self.edits.pop()
        for f, (before, _) in edit.moves.items():
            if f in self.cluster_of:
                self.cluster_of[f] = before
        for c, (before, _) in edit.labels.items():
            if before is None:
                self.labels.pop(c, None)
            else:
                self.labels[c] = before
        for record in edit.added_together:
            if record in self.together:
                self.together.remove(record)
        self.together.extend(edit.removed_together)
        for record in edit.added_apart:
            if record in self.apart:
                self.apart.remove(record)
        self.apart.extend(edit.removed_apart)
        return edit

    def suggestions(self, cluster_id: str, limit: int = 5) -> list[tuple[str, float]]:
        """Clusters likely to be the same person, most similar centroid first; clusters it may
        never join (a shared photo, a split) are left out."""
        members = self.members()
        if cluster_id not in members:
            raise EditRefused("NOT_FOUND", f"No cluster {cluster_id} in this album.")
        mine = self._centroid(members[cluster_id])
        if mine is None:
            mine = np.sum([self._vector(f) for f in members[cluster_id]], axis=0)
        mine = mine / np.linalg.norm(mine)
        ranked = []
        for other, face_ids in members.items():
            if other == cluster_id or self._clash(members[cluster_id], face_ids):
                continue
            centroid = self._centroid(face_ids)
            if centroid is None:
                continue
            ranked.append((other, round(float(mine @ centroid / np.linalg.norm(centroid)), 4)))
        ranked.sort(key=lambda r: (-r[1], r[0]))
        return ranked[:limit]


def edit_to_dict(edit: Edit) -> dict:
    """An edit, JSON-ready (what an EDIT# item holds)."""
    return {
        **edit.as_item(),
        "moves": {f: list(m) for f, m in edit.moves.items()},
        "labels": {c: list(v) for c, v in edit.labels.items()},
        "addedTogether": [sorted(r) for r in edit.added_together],
        "removedTogether": [sorted(r) for r in edit.removed_together],
        "addedApart": [[sorted(a), sorted(b)] for a, b in edit.added_apart],
        "removedApart": [[sorted(a), sorted(b)] for a, b in edit.removed_apart],
    }


def edit_from_dict(item: dict) -> Edit:
    return Edit(
        edit_id=item["editId"],
        type=item["type"],
        cluster_id=item["clusterId"],
        moves={f: (m[0], m[1]) for f, m in item["moves"].items()},
        labels={c: (v[0], v[1]) for c, v in item["labels"].items()},
        added_together=[frozenset(g) for g in item["addedTogether"]],
        removed_together=[frozenset(g) for g in item["removedTogether"]],
        added_apart=[(frozenset(a), frozenset(b)) for a, b in item["addedApart"]],
        removed_apart=[(frozenset(a), frozenset(b)) for a, b in item["removedApart"]],
    )


# ---- slices: an album's people held in part --------------------------------------------------
# A store keeps people as records (faceflow.storage.people): an operation loads only what it
# touches (the clusters it names, their faces, every constraint, the latest edit), runs here on
# that slice, and writes back what `changes_since` reports. The rules stay in one place.

Link = frozenset[str] | tuple[frozenset[str], frozenset[str]]


@dataclass(frozen=True)
class Snapshot:
    cluster_of: dict[str, str]
    labels: dict[str, str]
    together: Counter
    apart: Counter
    edit_ids: tuple[str, ...]


@dataclass
class Changes:
    moves: dict[str, tuple[str | None, str]]  # face → (before, after); None: a new face
    labels: dict[str, str | None]  # cluster → its label now (None: none)
    links: dict[Link, int]  # constraint record → how many times it is held now
    edits_added: list[Edit]
    edits_removed: list[str]
    edit_count: int

    def __bool__(self) -> bool:
        return bool(self.moves or self.labels or self.links or self.edits_added)


def slice_of(
    faces: Sequence[FaceEntry],
    cluster_of: dict[str, str],
    *,
    labels: dict[str, str],
    links: dict[Link, int],
    edits: Sequence[Edit] = (),
    edit_count: int = 0,
    taken: Callable[[str], bool] | None = None,
    **options,
) -> AlbumPeople:
    """An AlbumPeople holding only these faces (and every constraint record, with its count)."""
    people = AlbumPeople(taken=taken, **options)
    people.faces = {f.face_id: f for f in faces}
    people.cluster_of = {f: c for f, c in cluster_of.items() if f in people.faces}
    people.labels = dict(labels)
    for record, count in links.items():
        target = people.together if isinstance(record, frozenset) else people.apart
        target.extend([record] * count)
    people.edits = list(edits)
    people._edit_count = edit_count
    return people


def snapshot(people: AlbumPeople) -> Snapshot:
    return Snapshot(
        dict(people.cluster_of),
        dict(people.labels),
        Counter(people.together),
        Counter(people.apart),
        tuple(e.edit_id for e in people.edits),
    )


def changes_since(people: AlbumPeople, before: Snapshot) -> Changes:
    """What an operation changed on a slice: the records a store writes back."""
    moves = {
        f: (before.cluster_of.get(f), c)
        for f, c in people.cluster_of.items()
        if before.cluster_of.get(f) != c
    }
    labels = {
        c: people.labels.get(c)
        for c in set(before.labels) | set(people.labels)
        if before.labels.get(c) != people.labels.get(c)
    }
    links: dict[Link, int] = {}
    for now, then in (
        (Counter(people.together), before.together),
        (Counter(people.apart), before.apart),
    ):
        for record in set(now) | set(then):
            if now[record] != then[record]:
                links[record] = now[record]
    ids = {e.edit_id for e in people.edits}
    return Changes(
        moves=moves,
        labels=labels,
        links=links,
        edits_added=[e for e in people.edits if e.edit_id not in before.edit_ids],
        edits_removed=[e for e in before.edit_ids if e not in ids],
        edit_count=people._edit_count,
    )


def _fresh_id(seed: str, used: set[str]) -> str:
    """`C-{seed}`, or `C-{seed}-{n}` with the first n not taken."""
    candidate, n = f"C-{seed}", 1
    while candidate in used:
        n += 1
        candidate = f"C-{seed}-{n}"
    return candidate
