"""FaceFlow's key schema, in one place: every key of the album table and of every bucket.

The album table (single table; stacks/albums/table.py):

    PK=USER#{userId}   SK=ALBUM#{albumId}       the album (name, createdAt, photoCount)
    PK=ALBUM#{albumId} SK=PHOTO#{photoId}       one photo (keys, hashes, EXIF, status, error)
    PK=ALBUM#{albumId} SK=SHA256#{digest}       claims a content digest for one photo (exact dedupe)
    PK=ALBUM#{albumId} SK=JOB#{jobId}           one pipeline run (status, step, photoIds, error)
    PK=ALBUM#{albumId} SK=FACE#{faceId}         one face (photo, box, landmarks, score, quality,
                                                crop key, embedding key and row)
    PK=ALBUM#{albumId} SK=COUNTS                its photos by status (every change of a photo's
                                                status moves them, in one transaction with it)
    PK=ALBUM#{albumId} SK=PEOPLE                the people's head: counts (faces,
                                                clusters), seq (every change), editCount, the
                                                writer's lease (lockOwner, lockUntil) and, while
                                                a large change is applied, its intentKey
    PK=ALBUM#{albumId} SK=SHARE#{shareId}       one share: status, recipients, photoIds,
                                                expiresAt, the exporter's lease, who was emailed
    PK=USER#{userId}   SK=SHARE#{shareId}       its owner's lookup (GET/DELETE /shares/{shareId})
    PK=USER#{userId}   SK=SHARERATE#{hour}      shares the user created in that hour (rate limit)
    PK=PEOPLE#{albumId} SK=CLUSTER#{clusterId}  one person: label, size, good faces, their
                                                vectors' sum (float64 bytes); LSI1SK=
                                                {10^9 - size}#{clusterId}: largest first
    PK=MEMBERS#{albumId}#{clusterId} SK={faceId}  a face in that cluster (its facts and vector):
                                                one partition per cluster, read whole
    PK=PLACED#{albumId} SK={faceId}             which cluster a face is in now
    PK=EDITS#{albumId} SK=EDIT#{editId}         one edit of the undo log (zlib JSON)
    PK=EDITS#{albumId} SK=LINK#{digest}         one constraint record (a must-link, a
                                                cannot-link) and its count
    The people's records sit in partitions of their own, sized by what one read wants (a page of
    clusters, one cluster, the log): a read never walks the album's photos and faces.
    GSI1 (GSI1PK=STATUS#{status} for photos, JOBSTATUS#{status} for jobs; GSI1SK=updatedAt),
    GSI2 (GSI2PK={userId}#{albumId}; GSI2SK=ALBUM, PHOTO#{photoId}, JOB#{jobId}),
    LSI1 (PK, LSI1SK=createdAt)

Every object key starts with `tenant/{userId}/{albumId}/`: deleting an album (or erasing a user)
is a prefix deletion in each bucket, and nothing is ever parsed out of a key but these fixed
segments. The one exception is where uploads land: `incoming/` + the raw key. A presigned URL
cannot be revoked, so nothing it can write is ever kept there: the starter (faceflow.edge.starter)
moves a photo's upload to its raw key when it claims the photo and deletes whatever else arrives,
and the raw bucket's lifecycle expires anything left under `incoming/`.

    raw         incoming/tenant/{userId}/{albumId}/YYYY/MM/DD/{photoId}.{ext}   the upload
                tenant/{userId}/{albumId}/YYYY/MM/DD/{photoId}.{ext}            the original
    derived     tenant/{userId}/{albumId}/thumb/{photoId}.jpg                   the thumbnail
                tenant/{userId}/{albumId}/crops/{faceId}.png          a face's aligned crop
    embeddings  tenant/{userId}/{albumId}/faces/{photoId}.npy         a photo's face vectors
                tenant/{userId}/{albumId}/people/intent-{seq}.json.gz  a large people change
                                                   being applied (replayed if its writer died)
    exports     tenant/{userId}/{albumId}/share/{shareId}/archive.zip     the share's ZIP
                tenant/{userId}/{albumId}/share/{shareId}/photos/{photoId}.{ext}  each photo
                tenant/{userId}/{albumId}/share/{shareId}/manifest.json   names in the ZIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from faceflow.domain.uploads import EXTENSIONS

# ---------------------------------------------------------------- the album table

ALBUM = "ALBUM#"
PHOTO = "PHOTO#"
SHA256 = "SHA256#"
JOB = "JOB#"
FACE = "FACE#"
SHARE = "SHARE#"
SHARE_RATE = "SHARERATE#"
USER = "USER#"
PEOPLE_SK = "PEOPLE"
COUNTS_SK = "COUNTS"
CLUSTER = "CLUSTER#"
EDIT = "EDIT#"
LINK = "LINK#"
ALBUM_GSI2SK = "ALBUM"  # the album item's sort key in GSI2


def user_pk(user_id: str) -> str:
    return f"{USER}{user_id}"


def album_pk(album_id: str) -> str:
    return f"{ALBUM}{album_id}"


def kind(sk: str) -> str:
    """What an item of an album's partition is: PHOTO, FACE, JOB, SHARE, SHA256 or PEOPLE."""
    return sk.split("#", 1)[0]


def album_key(user_id: str, album_id: str) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": f"{ALBUM}{album_id}"}


def photo_sk(photo_id: str) -> str:
    return f"{PHOTO}{photo_id}"


def photo_key(album_id: str, photo_id: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": photo_sk(photo_id)}


def sha256_key(album_id: str, digest: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": f"{SHA256}{digest}"}


def job_sk(job_id: str) -> str:
    return f"{JOB}{job_id}"


def job_key(album_id: str, job_id: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": job_sk(job_id)}


def face_sk(face_id: str) -> str:
    return f"{FACE}{face_id}"


def face_key(album_id: str, face_id: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": face_sk(face_id)}


def face_id_of(photo_id: str, index: int) -> str:
    """Faces of a photo are numbered largest first: the same photo always gives the same ids."""
    return f"{photo_id}-{index:03d}"


def counts_key(album_id: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": COUNTS_SK}


def people_key(album_id: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": PEOPLE_SK}


def people_pk(album_id: str) -> str:
    return f"PEOPLE#{album_id}"


def cluster_key(album_id: str, cluster_id: str) -> dict[str, str]:
    return {"PK": people_pk(album_id), "SK": f"{CLUSTER}{cluster_id}"}


def cluster_order(size: int, cluster_id: str) -> str:
    """LSI1SK of a cluster: the largest first, then by id."""
    return f"{10**9 - size:010d}#{cluster_id}"


def members_pk(album_id: str, cluster_id: str) -> str:
    return f"MEMBERS#{album_id}#{cluster_id}"


def member_key(album_id: str, cluster_id: str, face_id: str) -> dict[str, str]:
    return {"PK": members_pk(album_id, cluster_id), "SK": face_id}


def placed_pk(album_id: str) -> str:
    return f"PLACED#{album_id}"


def placed_key(album_id: str, face_id: str) -> dict[str, str]:
    return {"PK": placed_pk(album_id), "SK": face_id}


def edits_pk(album_id: str) -> str:
    return f"EDITS#{album_id}"


def edit_key(album_id: str, edit_id: str) -> dict[str, str]:
    return {"PK": edits_pk(album_id), "SK": f"{EDIT}{edit_id}"}


def link_key(album_id: str, digest: str) -> dict[str, str]:
    return {"PK": edits_pk(album_id), "SK": f"{LINK}{digest}"}


def share_key(album_id: str, share_id: str) -> dict[str, str]:
    return {"PK": album_pk(album_id), "SK": f"{SHARE}{share_id}"}


def lookup_key(user_id: str, share_id: str) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": f"{SHARE}{share_id}"}


def rate_key(user_id: str, window: int) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": f"{SHARE_RATE}{window}"}


def owner_index(user_id: str, album_id: str) -> str:
    """GSI2PK of every item of a user's album."""
    return f"{user_id}#{album_id}"


def photo_status_index(status: str) -> str:
    """GSI1PK of a photo in `status`."""
    return f"STATUS#{status}"


def job_status_index(status: str) -> str:
    """GSI1PK of a job in `status`."""
    return f"JOBSTATUS#{status}"


# ---------------------------------------------------------------- the buckets

TENANT = "tenant"
INCOMING = "incoming"  # where presigned uploads land (raw bucket)


def album_prefix(user_id: str, album_id: str) -> str:
    return f"{TENANT}/{user_id}/{album_id}/"


def user_prefix(user_id: str) -> str:
    return f"{TENANT}/{user_id}/"


def raw_key(user_id: str, album_id: str, photo_id: str, content_type: str, at: datetime) -> str:
    return f"{album_prefix(user_id, album_id)}{at:%Y/%m/%d}/{photo_id}.{EXTENSIONS[content_type]}"


def upload_key(raw_key: str) -> str:
    """Where the client's presigned PUT (or multipart upload) of this original lands."""
    return f"{INCOMING}/{raw_key}"


def thumbnail_key(user_id: str, album_id: str, photo_id: str) -> str:
    return f"{album_prefix(user_id, album_id)}thumb/{photo_id}.jpg"


def crop_key(user_id: str, album_id: str, face_id: str) -> str:
    return f"{album_prefix(user_id, album_id)}crops/{face_id}.png"


def vectors_key(user_id: str, album_id: str, photo_id: str) -> str:
    """A photo's face vectors (ProcessPhoto): row = face number."""
    return f"{album_prefix(user_id, album_id)}faces/{photo_id}.npy"


def people_intent_key(user_id: str, album_id: str, seq: int) -> str:
    return f"{album_prefix(user_id, album_id)}people/intent-{seq:010d}.json.gz"


def share_prefix(user_id: str, album_id: str, share_id: str) -> str:
    """Everything of one share in the exports bucket: revoking it deletes this prefix."""
    return f"{album_prefix(user_id, album_id)}share/{share_id}/"


def shared_photos_prefix(user_id: str, album_id: str, share_id: str) -> str:
    return f"{share_prefix(user_id, album_id, share_id)}photos/"


def archive_key(user_id: str, album_id: str, share_id: str) -> str:
    return f"{share_prefix(user_id, album_id, share_id)}archive.zip"


def manifest_key(user_id: str, album_id: str, share_id: str) -> str:
    return f"{share_prefix(user_id, album_id, share_id)}manifest.json"


def shared_photo_key(user_id: str, album_id: str, share_id: str, photo_id: str, ext: str) -> str:
    # Ids only in the key (URL-safe, nothing of the user's file name); the name travels as the
    # object's Content-Disposition.
    return f"{shared_photos_prefix(user_id, album_id, share_id)}{photo_id}.{ext}"


@dataclass(frozen=True)
class RawObject:
    user_id: str
    album_id: str
    photo_id: str


def raw_key_of(upload: str) -> str:
    """The raw key of the original an upload key (`upload_key`) lands for."""
    return upload.removeprefix(f"{INCOMING}/")


def parse_upload_key(key: str) -> RawObject | None:
    """The ids of an upload key (`incoming/` + a raw key), or None for anything else."""
    head, _, raw = key.partition("/")
    return parse_raw_key(raw) if head == INCOMING else None


def parse_raw_key(key: str) -> RawObject | None:
    """The ids of a raw upload key, or None for anything not shaped like one (never trusted
    further than that: the photo item must agree)."""
    parts = key.split("/")
    if len(parts) != 7 or parts[0] != TENANT or "." not in parts[6]:
        return None
    photo_id = parts[6].rsplit(".", 1)[0]
    if not all((parts[1], parts[2], photo_id)):
        return None
    return RawObject(parts[1], parts[2], photo_id)
