import pytest

from style_backend.storage import keys

SUB = "3f1c2a9e-7b5d-4c1e-9a2f-0d8e6b4c1a77"  # Cognito subs contain hyphens


def test_upload_key_round_trips_a_hyphenated_sub():
    key = keys.upload_key(SUB, "p-1", "image/png")
    assert key == f"uploads/{SUB}/p-1.png"
    ref = keys.parse_upload_key(key)
    assert (ref.user_id, ref.process_id) == (SUB, "p-1")


def test_crop_key_round_trips():
    ref = keys.parse_crop_key(keys.crop_key(SUB, "abc"))
    assert (ref.user_id, ref.process_id) == (SUB, "abc")


@pytest.mark.parametrize(
    "key",
    [
        "uploads/u/p.gif",
        "uploads/u/p",
        "uploads/../p.jpg",
        "uploads/u/x/p.jpg",
        "crops/u/p.png",
        "results/u/p/r.jpg",
    ],
)
def test_keys_outside_the_layout_are_rejected(key):
    with pytest.raises(keys.InvalidKey):
        if key.startswith("crops/"):
            keys.parse_crop_key(key)
        else:
            keys.parse_upload_key(key)


def test_inference_id_is_deterministic_and_fits_sagemaker():
    a = keys.inference_id("p1", "r1")
    assert a == keys.inference_id("p1", "r1")
    assert a != keys.inference_id("p1", "r2")
    assert len(a) <= 64
