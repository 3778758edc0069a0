"""Right to erasure: remove every object and item of one user, whatever the pipeline is doing.

Order matters. First the user's erasure marker (ProcessStore.mark_user_erased): from then on a
pipeline step treats every process of the user created until then as erased. Then the objects,
then the Process items that name the inference objects (so that a run interrupted half-way
leaves enough behind for the next run to finish the job); they become ERASED tombstones that no
transition leaves. Running it again on an erased user deletes nothing and succeeds.

Steps still running meanwhile follow one rule (ProcessStore.lost_to_erasure): check before the
work, and again after their last write; when the process was erased, delete what they wrote and
the object that triggered them. An object written after this erasure listed its prefix is
therefore deleted by its writer or by its consumer; anything written before, erasure finds.
FaceFlow's writers of a user's data are to follow the same rule. FaceFlow erases its own data
(faceflow.storage.albums.erase_user_albums); common.erasure runs both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from common import erasure as registry
from common.erasure import register
from common.observability import logger as log
from style_backend.domain.process import ERASURE_RECORD_TTL_SECONDS
from style_backend.storage import accounts, keys, objects
from style_backend.storage.agreements import AgreementStore
from style_backend.storage.display import DISPLAY_KEY, HISTORY_KEY, DisplayHistory, DisplayStore
from style_backend.storage.processes import ProcessStore
from style_backend.storage.user_data import delete_user_rows, processes_of


def erase_caller(user_id: str, claims: Mapping[str, str]) -> dict[str, Any]:
    """DELETE /apis/images/{userId}: every product's data of the caller (each product's
    registered eraser). A destructive route: the token's account must still exist
    (InactiveAccount, 401, otherwise)."""
    accounts.require_active(claims)
    return registry.erase_user(user_id)


def _inference_keys(bucket: str, process: dict[str, Any]) -> Iterator[str]:
    """Objects of the process outside the user's prefixes: its inference requests, and any
    output/failure object whose location the pipeline recorded on the style."""
    yield from objects.keys_under(bucket, f"{keys.INFERENCE_IN}{process['processId']}/")
    for resource_id, style in (process.get("styles") or {}).items():
        locations = (style.get("outputLocation"), style.get("failureLocation"))
        yield from keys.inference_objects(bucket, process["processId"], resource_id, *locations)[1:]


def _user_objects(bucket: str, user_id: str, processes: list[dict[str, Any]]) -> Iterator[str]:
    for prefix in keys.USER_PREFIXES:
        yield from objects.keys_under(bucket, f"{prefix}{user_id}/")
    for process in processes:
        yield from _inference_keys(bucket, process)


@register("styling")
def erase_user(user_id: str) -> dict[str, int]:
    """Delete the user's objects, then their items in every table. Returns counts."""
    bucket = objects.bucket()
    store = ProcessStore()
    store.mark_user_erased(user_id)  # first: steps finishing after this point clean up
    display, history = DisplayStore().table, DisplayHistory().table
    agreements = AgreementStore().table
    processes = processes_of(store, user_id)
    deleted = objects.delete_objects(bucket, _user_objects(bucket, user_id, processes))
    tombstone_ttl = int(time.time()) + ERASURE_RECORD_TTL_SECONDS
    summary = {
        "objects": deleted,
        "processes": sum(store.tombstone(p["processId"], tombstone_ttl) for p in processes),
        "results": delete_user_rows(display, DISPLAY_KEY, user_id),
        "history": delete_user_rows(history, HISTORY_KEY, user_id),
        "agreements": delete_user_rows(agreements, ("userId", "termsVersion"), user_id),
    }
    log.info("user's styling data erased", extra={"userId": user_id, **summary})
    return summary
