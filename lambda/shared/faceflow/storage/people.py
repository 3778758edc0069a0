"""An album's people as records that grow with it (keys in faceflow.storage.keys):

- `PEOPLE#{albumId}` / `CLUSTER#{id}`: a person (label, size, good faces, the sum of their unit
  vectors: centroid and confidence without reading a face), listed largest first through LSI1;
- `MEMBERS#{albumId}#{clusterId}` / `{faceId}`: a face in a cluster, with its facts and vector,
  one partition per cluster read whole;
- `PLACED#{albumId}` / `{faceId}`: which cluster a face is in now (read by key);
- `EDITS#{albumId}` / `LINK#{digest}`: a constraint record (must-link, cannot-link), its count;
- `EDITS#{albumId}` / `EDIT#{editId}`: the undo log, one item per edit;
- `ALBUM#{albumId}` / `PEOPLE`: the head: counts, `seq` (one more per change), `editCount`, the
  writer's lease.

A change loads only what it touches (a *slice*: faceflow.domain.people.slice_of), runs the
domain's operation on it and writes back what `changes_since` reports, under the album's lease:
one writer at a time, so concurrent writers never lose each other's work. Up to 99 records go in
one transaction with the head (atomic; the head's condition fences a writer whose lease ran
out); a larger change is first written whole as an intent object the head points to, applied,
then cleared, and whoever takes the lease next replays an intent left behind by a writer that
died: every write is absolute (a put, a delete, a SET), so replaying it changes nothing twice.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from faceflow.config import AlbumEnv, get
from faceflow.domain.people import (
    AlbumPeople,
    Changes,
    Edit,
    FaceEntry,
    Link,
    changes_since,
    edit_from_dict,
    edit_to_dict,
    slice_of,
    snapshot,
)
from faceflow.storage import keys, objects
from faceflow.storage.albums import album_alive
from faceflow.storage.table import Key, all_pages, batch_get, table

LEASE_SECONDS = 300  # the longest a writer may hold an album's people (a Lambda's timeout)
TRANSACTION_ITEMS = 100  # DynamoDB's limit: the head and 99 records


class StoreBusy(RuntimeError):
    """Another writer held the album's people for the whole wait: worth retrying later."""


# ---------------------------------------------------------------- records


def _f32(vector: np.ndarray) -> bytes:
    return np.asarray(vector, np.float32).tobytes()


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, np.float64).ravel()
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


@dataclass
class Member:
    """A face as its cluster holds it."""

    face_id: str
    photo_id: str
    low_quality: bool
    vector: np.ndarray  # float32, as the embedder gave it
    facts: dict[str, Any]  # box, score, cropKey

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Member:
        return cls(
            item["faceId"],
            item["photoId"],
            bool(item["lowQuality"]),
            np.frombuffer(bytes(item["vector"]), np.float32) if "vector" in item else None,
            {"box": item["box"], "score": item["score"], "cropKey": item["cropKey"]},
        )

    def entry(self) -> FaceEntry:
        return FaceEntry(self.face_id, self.photo_id, self.vector, self.low_quality)

    def item(self, album_id: str, cluster_id: str) -> dict[str, Any]:
        return {
            **keys.member_key(album_id, cluster_id, self.face_id),
            "faceId": self.face_id,
            "photoId": self.photo_id,
            "lowQuality": self.low_quality,
            "vector": _f32(self.vector),
            **self.facts,
        }


# A cluster up to this many faces carries their views (facts, no vectors) in its record, so a
# page of clusters is one query; a larger one's views are read from its members' partition.
VIEWS_UP_TO = 100


@dataclass
class ClusterRecord:
    cluster_id: str
    label: str | None = None
    size: int = 0
    good: int = 0
    sum: np.ndarray | None = None  # float64 sum of the good faces' unit vectors
    # faceId → {photoId, box, score, cropKey}; None: not kept (over VIEWS_UP_TO faces)
    views: dict[str, dict[str, Any]] | None = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ClusterRecord:
        raw = item.get("sum")
        return cls(
            item["clusterId"],
            item.get("label"),
            int(item["size"]),
            int(item["good"]),
            np.frombuffer(bytes(raw), np.float64).copy() if raw else None,
            _unpack(item["faces"]) if "faces" in item else None,
        )

    @property
    def confidence(self) -> float:
        """Mean cosine similarity of its good faces to their centroid: |Σ unit vectors| / n."""
        if self.good < 2 or self.sum is None:
            return 1.0
        return round(float(np.linalg.norm(self.sum)) / self.good, 4)

    def add(self, member: Member, sign: int) -> None:
        self.size += sign
        if self.views is not None:
            if sign > 0:
                view = {k: member.facts[k] for k in ("box", "score", "cropKey")}
                self.views[member.face_id] = {"photoId": member.photo_id, **view}
            else:
                self.views.pop(member.face_id, None)
            if len(self.views) > VIEWS_UP_TO:
                self.views = None  # read from its members from now on
        if member.low_quality:
            return
        self.good += sign
        unit = _unit(member.vector)
        self.sum = sign * unit if self.sum is None else self.sum + sign * unit
        if self.good == 0:
            self.sum = None  # no drift left behind

    def item(self, album_id: str, user_id: str) -> dict[str, Any]:
        item = {
            **keys.cluster_key(album_id, self.cluster_id),
            "clusterId": self.cluster_id,
            "userId": user_id,
            "size": self.size,
            "good": self.good,
            "LSI1SK": keys.cluster_order(self.size, self.cluster_id),
        }
        if self.label is not None:
            item["label"] = self.label
        if self.sum is not None:
            item["sum"] = np.asarray(self.sum, np.float64).tobytes()
        if self.views is not None:
            item["faces"] = _pack(self.views)
        return item


def _pack(document: Any) -> bytes:
    return zlib.compress(json.dumps(document, separators=(",", ":"), default=float).encode())


def _unpack(blob: Any) -> Any:
    return json.loads(zlib.decompress(bytes(blob)))


def _link_parts(record: Link) -> Any:
    if isinstance(record, frozenset):
        return {"kind": "together", "faces": sorted(record)}
    return {"kind": "apart", "faces": [sorted(record[0]), sorted(record[1])]}


def _link_of(parts: dict[str, Any]) -> Link:
    if parts["kind"] == "together":
        return frozenset(parts["faces"])
    left, right = parts["faces"]
    return (frozenset(left), frozenset(right))


def _digest(record: Link) -> str:
    return hashlib.sha256(json.dumps(_link_parts(record), sort_keys=True).encode()).hexdigest()[:32]


# ---------------------------------------------------------------- reading


def head(album_id: str) -> dict[str, Any]:
    return table().get_item(Key=keys.people_key(album_id), ConsistentRead=True).get("Item") or {}


def cluster(album_id: str, cluster_id: str) -> ClusterRecord | None:
    item = table().get_item(Key=keys.cluster_key(album_id, cluster_id), ConsistentRead=True)
    return ClusterRecord.from_item(item["Item"]) if "Item" in item else None


def clusters(album_id: str, cluster_ids: Iterable[str]) -> dict[str, ClusterRecord]:
    """These clusters' records (those that exist)."""
    found = batch_get([keys.cluster_key(album_id, c) for c in sorted(set(cluster_ids))])
    return {r.cluster_id: r for r in map(ClusterRecord.from_item, found)}


def members(album_id: str, cluster_id: str, *, vectors: bool = True) -> list[Member]:
    """A cluster's faces (`vectors=False`: their facts only, what a view shows)."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.members_pk(album_id, cluster_id))
    }
    if not vectors:
        kwargs["ProjectionExpression"] = "faceId, photoId, lowQuality, box, score, cropKey"
    return [Member.from_item(i) for i in all_pages(**kwargs)]


def all_clusters(album_id: str) -> list[ClusterRecord]:
    """Every cluster's record without its faces' views (an index's or a recluster's read)."""
    condition = Key("PK").eq(keys.people_pk(album_id)) & Key("SK").begins_with(keys.CLUSTER)
    found = all_pages(
        KeyConditionExpression=condition,
        ProjectionExpression="clusterId, label, #size, good, #sum",
        ExpressionAttributeNames={"#size": "size", "#sum": "sum"},
    )
    return [ClusterRecord.from_item(i) for i in found]


def cluster_page(
    album_id: str, limit: int, start: dict[str, str] | None
) -> tuple[list[ClusterRecord], dict[str, str] | None]:
    """One page of clusters, largest first (LSI1), and where the next one starts."""
    kwargs: dict[str, Any] = {
        "IndexName": "LSI1",
        "KeyConditionExpression": Key("PK").eq(keys.people_pk(album_id)),
        "Limit": limit,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = table().query(**kwargs)
    return [ClusterRecord.from_item(i) for i in page["Items"]], page.get("LastEvaluatedKey")


def links(album_id: str) -> dict[Link, int]:
    condition = Key("PK").eq(keys.edits_pk(album_id)) & Key("SK").begins_with(keys.LINK)
    return {
        _link_of(_unpack(i["record"])): int(i["count"])
        for i in all_pages(KeyConditionExpression=condition)
    }


def _edit_items(album_id: str, latest: int | None) -> list[dict[str, Any]]:
    condition = Key("PK").eq(keys.edits_pk(album_id)) & Key("SK").begins_with(keys.EDIT)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": False}
    if latest:
        return table().query(Limit=latest, ConsistentRead=True, **kwargs)["Items"]
    return list(all_pages(**kwargs))


def edit_log(album_id: str, latest: int | None = None) -> list[Edit]:
    """The undo log, latest first (`latest`: only that many)."""
    return [edit_from_dict(_unpack(i["body"])) for i in _edit_items(album_id, latest)]


def edit_list(album_id: str) -> list[dict[str, str]]:
    """The undo log's entries, latest first, as the API lists them (no bodies unpacked)."""
    return [
        {"editId": i["editId"], "type": i["type"], "clusterId": i["clusterId"]}
        for i in _edit_items(album_id, None)
    ]


def face_clusters(album_id: str, face_ids: Iterable[str]) -> dict[str, str]:
    """Where each of these faces is now, for those placed (PLACED# records, read by key)."""
    wanted = [keys.placed_key(album_id, f) for f in sorted(set(face_ids))]
    return {i["SK"]: i["clusterId"] for i in batch_get(wanted)}


def members_at(album_id: str, where: dict[str, str]) -> list[Member]:
    """These faces as their clusters hold them (faceId → clusterId), read by key in batches."""
    wanted = [keys.member_key(album_id, c, f) for f, c in sorted(where.items())]
    return [Member.from_item(i) for i in batch_get(wanted)]


# ---------------------------------------------------------------- the lease


@dataclass
class Lease:
    """The album's people held by one writer until `until` (epoch seconds)."""

    user_id: str
    album_id: str
    owner: str
    head: dict[str, Any]

    @property
    def seq(self) -> int:
        return int(self.head.get("seq", 0))

    def count(self, name: str) -> int:
        return int(self.head.get(name, 0))


def acquire(user_id: str, album_id: str, wait_seconds: float) -> Lease:
    """The album's lease (StoreBusy if another writer holds it for the whole wait). An intent
    a writer that died left behind is applied first."""
    owner = os.urandom(8).hex()
    deadline = time.monotonic() + wait_seconds
    delay = 0.02
    while True:
        now = time.time()
        try:
            answer = table().update_item(
                Key=keys.people_key(album_id),
                UpdateExpression="SET lockOwner = :me, lockUntil = :until, userId = :user",
                ConditionExpression="attribute_not_exists(lockOwner) OR lockUntil < :now",
                ExpressionAttributeValues={
                    ":me": owner,
                    ":until": Decimal(str(round(now + LEASE_SECONDS, 3))),
                    ":now": Decimal(str(round(now, 3))),
                    ":user": user_id,
                },
                ReturnValues="ALL_NEW",
            )
            break
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        if time.monotonic() + delay > deadline:
            raise StoreBusy(f"album {album_id}: its people are being changed by another writer")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    lease = Lease(user_id, album_id, owner, answer["Attributes"])
    if lease.head.get("intentKey"):
        _replay(lease)
    return lease


def release(lease: Lease) -> None:
    """Give the lease back without a change."""
    with contextlib.suppress(ClientError):
        table().update_item(
            Key=keys.people_key(lease.album_id),
            UpdateExpression="REMOVE lockOwner, lockUntil",
            ConditionExpression="lockOwner = :me",
            ExpressionAttributeValues={":me": lease.owner},
        )


@contextlib.contextmanager
def held(user_id: str, album_id: str, wait_seconds: float) -> Iterator[Lease]:
    """The lease for a block; released if the block ends without committing."""
    lease = acquire(user_id, album_id, wait_seconds)
    try:
        yield lease
    finally:
        if lease.owner:  # commit() clears it once the head has let go
            release(lease)
            if "seq" not in lease.head and not album_alive(user_id, album_id):
                # the lease made the head of an album deleted meanwhile: it goes too
                table().delete_item(Key=keys.people_key(album_id))


# ---------------------------------------------------------------- writing a change


@dataclass
class Writes:
    """Absolute writes: records put, keys deleted, the head's new values."""

    puts: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, str]] = field(default_factory=list)
    head: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.puts) + len(self.deletes)


def writes_for(
    lease: Lease,
    changes: Changes,
    known: dict[str, Member],
    before: dict[str, ClusterRecord],
) -> Writes:
    """The records a slice's changes come to: members moved (and where they are recorded), the
    touched clusters' records recomputed by the moved faces' vectors, labels, constraint
    records, the undo log, the head's counts. `known`: every face the slice held; `before`:
    the records of every cluster a move or a label touches."""
    album_id, user_id = lease.album_id, lease.user_id
    out = Writes()
    touched = {c: before.get(c) or ClusterRecord(c) for c in _touched(changes)}
    for face_id, (was, now) in changes.moves.items():
        member = known[face_id]
        if was is not None:
            out.deletes.append(keys.member_key(album_id, was, face_id))
            touched[was].add(member, -1)
        out.puts.append(member.item(album_id, now))
        touched[now].add(member, +1)
        out.puts.append({**keys.placed_key(album_id, face_id), "clusterId": now})
    for cluster_id, label in changes.labels.items():
        touched[cluster_id].label = label
    created = removed = 0
    for record in touched.values():
        existed = record.cluster_id in before
        if record.size > 0:
            out.puts.append(record.item(album_id, user_id))
            created += not existed
        elif existed:
            out.deletes.append(keys.cluster_key(album_id, record.cluster_id))
            removed += 1
    for link, count in changes.links.items():
        key = keys.link_key(album_id, _digest(link))
        if count:
            out.puts.append({**key, "record": _pack(_link_parts(link)), "count": count})
        else:
            out.deletes.append(key)
    for edit in changes.edits_added:
        out.puts.append(
            {
                **keys.edit_key(album_id, edit.edit_id),
                **edit.as_item(),
                "body": _pack(edit_to_dict(edit)),
            }
        )
    out.deletes.extend(keys.edit_key(album_id, e) for e in changes.edits_removed)
    for item in out.puts:  # the album's deletion removes its owner's items (storage.albums)
        item["userId"] = user_id
    new_faces = sum(1 for was, _ in changes.moves.values() if was is None)
    out.head = {
        "seq": lease.seq + 1,
        "faceCount": lease.count("faceCount") + new_faces,
        "clusterCount": lease.count("clusterCount") + created - removed,
        "editCount": changes.edit_count,
    }
    return out


def _touched(changes: Changes) -> set[str]:
    out = set(changes.labels)
    for was, now in changes.moves.values():
        out.add(now)
        if was is not None:
            out.add(was)
    return out


def commit(lease: Lease, writes: Writes) -> int:
    """Apply `writes` and let the lease go: the album's new seq."""
    if len(writes) < TRANSACTION_ITEMS:
        _transact(lease, writes)
    else:
        _apply_via_intent(lease, writes)
    lease.owner = ""  # the head let go with the change
    lease.head.update(writes.head)
    if not album_alive(lease.user_id, lease.album_id):
        # deleted while this change ran: the deletion may have listed before these landed
        _undo_writes(lease.album_id, writes)
    return int(writes.head["seq"])


def _head_update(lease: Lease, values: dict[str, Any]) -> dict[str, Any]:
    names = {f"#{k}": k for k in values}
    sets = ", ".join(f"#{k} = :{k}" for k in values)
    return {
        "Key": keys.people_key(lease.album_id),
        "UpdateExpression": f"SET {sets} REMOVE lockOwner, lockUntil, intentKey",
        "ConditionExpression": "lockOwner = :me",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {
            ":me": lease.owner,
            **{f":{k}": v for k, v in values.items()},
        },
    }


def _transact(lease: Lease, writes: Writes) -> None:
    name = get(AlbumEnv.TABLE)
    items: list[dict[str, Any]] = [{"Put": {"TableName": name, "Item": i}} for i in writes.puts]
    items += [{"Delete": {"TableName": name, "Key": k}} for k in writes.deletes]
    items.append({"Update": {"TableName": name, **_head_update(lease, writes.head)}})
    try:
        table().meta.client.transact_write_items(TransactItems=items)
    except ClientError as err:
        if err.response["Error"]["Code"] == "TransactionCanceledException":
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if reasons and reasons[-1] == "ConditionalCheckFailed":
                raise StoreBusy("the lease ran out before the change was written") from err
        raise


def _to_json(value: Any) -> Any:
    """DynamoDB values as JSON: bytes and numbers tagged, so they come back as they were."""
    if isinstance(value, bytes | bytearray):
        return {"b": bytes(value).hex()}
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return {"n": str(value)}
    if isinstance(value, dict):
        return {"m": {k: _to_json(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "b" in value:
            return bytes.fromhex(value["b"])
        if "n" in value:
            return Decimal(value["n"])
        return {k: _from_json(v) for k, v in value["m"].items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _intent_document(writes: Writes) -> bytes:
    document = {
        "puts": _to_json(writes.puts),
        "deletes": writes.deletes,
        "head": _to_json(writes.head),
    }
    return gzip.compress(json.dumps(document).encode())


def _read_intent(data: bytes) -> Writes:
    document = json.loads(gzip.decompress(data))
    return Writes(
        puts=_from_json(document["puts"]),
        deletes=document["deletes"],
        head=_from_json(document["head"]),
    )


def _apply_via_intent(lease: Lease, writes: Writes) -> None:
    key = keys.people_intent_key(lease.user_id, lease.album_id, int(writes.head["seq"]))
    objects.s3().put_object(
        Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key, Body=_intent_document(writes)
    )
    try:
        table().update_item(
            Key=keys.people_key(lease.album_id),
            UpdateExpression="SET intentKey = :k",
            ConditionExpression="lockOwner = :me",
            ExpressionAttributeValues={":k": key, ":me": lease.owner},
        )
    except ClientError as err:
        objects.delete(AlbumEnv.EMBEDDINGS_BUCKET, key)
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise StoreBusy("the lease ran out before the change was written") from err
        raise
    _apply(lease.album_id, writes)
    table().update_item(**_head_update(lease, writes.head))
    objects.delete(AlbumEnv.EMBEDDINGS_BUCKET, key)


def _apply(album_id: str, writes: Writes) -> None:
    with table().batch_writer() as batch:
        for key in writes.deletes:
            batch.delete_item(Key=key)
        for item in writes.puts:
            batch.put_item(Item=item)


def _replay(lease: Lease) -> None:
    """Finish the change a writer that died left in its intent, then hold the lease on."""
    key = lease.head["intentKey"]
    try:
        data = objects.s3().get_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("NoSuchKey", "404"):
            raise
        data = None  # written but never pointed at... or already applied: nothing to redo
    if data is not None:
        writes = _read_intent(data["Body"].read())
        _apply(lease.album_id, writes)
        lease.head.update(writes.head)
    values = {k: lease.head.get(k, 0) for k in ("seq", "faceCount", "clusterCount", "editCount")}
    table().update_item(
        Key=keys.people_key(lease.album_id),
        UpdateExpression="SET #seq = :seq, faceCount = :f, clusterCount = :c, editCount = :e "
        "REMOVE intentKey",
        ConditionExpression="lockOwner = :me",
        ExpressionAttributeNames={"#seq": "seq"},
        ExpressionAttributeValues={
            ":seq": values["seq"],
            ":f": values["faceCount"],
            ":c": values["clusterCount"],
            ":e": values["editCount"],
            ":me": lease.owner,
        },
    )
    lease.head.pop("intentKey", None)
    objects.delete(AlbumEnv.EMBEDDINGS_BUCKET, key)


def _undo_writes(album_id: str, writes: Writes) -> None:
    with table().batch_writer() as batch:
        for item in writes.puts:
            batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
    table().delete_item(Key=keys.people_key(album_id))


# ---------------------------------------------------------------- a change on a slice


@dataclass
class Slice:
    """What an operation runs on: the domain's people holding these faces, and their members."""

    lease: Lease
    people: AlbumPeople
    known: dict[str, Member]
    before: dict[str, ClusterRecord]


def load_slice(
    lease: Lease,
    cluster_ids: Sequence[str] = (),
    face_ids: Sequence[str] = (),
    *,
    edits: Sequence[Edit] = (),
) -> Slice:
    """Every face of these clusters, these faces (wherever they are), every constraint record,
    the given edits of the log, the clusters' records."""
    album_id = lease.album_id
    known: dict[str, Member] = {}
    cluster_of: dict[str, str] = {}
    for cluster_id in dict.fromkeys(cluster_ids):
        for member in members(album_id, cluster_id):
            known[member.face_id], cluster_of[member.face_id] = member, cluster_id
    where = face_clusters(album_id, [f for f in face_ids if f not in known])
    for member in members_at(album_id, where):
        known[member.face_id], cluster_of[member.face_id] = member, where[member.face_id]
    named = set(cluster_of.values()) | set(cluster_ids)
    for edit in edits:
        named |= set(edit.labels) | {c for m in edit.moves.values() for c in m}
    before = clusters(album_id, named)
    people = slice_of(
        [m.entry() for m in known.values()],
        cluster_of,
        labels={c: r.label for c, r in before.items() if r.label is not None},
        links=links(album_id),
        edits=edits,
        edit_count=lease.count("editCount"),
        taken=lambda c: c in before or cluster(album_id, c) is not None,
    )
    return Slice(lease, people, known, before)


def change_slice(
    user_id: str,
    album_id: str,
    load: Callable[[Lease], Slice],
    operation: Callable[[AlbumPeople], Any],
    *,
    wait_seconds: float = 5.0,
) -> tuple[Slice, Any]:
    """Under the album's lease: load a slice, run `operation` on it (it may raise EditRefused),
    write back what changed. Returns the slice (as changed) and the operation's result."""
    with held(user_id, album_id, wait_seconds) as lease:
        part = load(lease)
        before = snapshot(part.people)
        result = operation(part.people)
        changes = changes_since(part.people, before)
        if changes:
            touched = _touched(changes) - part.before.keys()
            part.before.update(clusters(album_id, touched))
            commit(lease, writes_for(lease, changes, part.known, part.before))
        return part, result
