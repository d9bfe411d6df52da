"""Body regions in words: a list of region ids read back as the shortest plain description."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def describe_regions(region_ids: Iterable[str], kb: Any) -> str:
    """Plain labels for ``region_ids``, a whole area by its label when every region of it is listed.

    ``["antecubital", ..., "palm"]`` reads "Shoulder and upper arm; Elbow and forearm; Wrist and hand"
    instead of nineteen ids; ids the knowledge base does not know are shown readable, never dropped.
    """
    ids = list(dict.fromkeys(region_ids))
    listed = set(ids)
    labels: list[str] = []
    areas_done: set[str] = set()
    for region_id in ids:
        region = kb.regions.get(region_id)
        if region is None:
            area = kb.areas.get(region_id)
            labels.append(area.label if area else region_id.replace("_", " "))
            continue
        members = {r.id for r in kb.regions.values() if r.area == region.area}
        if members <= listed:
            if region.area not in areas_done:
                areas_done.add(region.area)
                labels.append(kb.areas[region.area].label)
        else:
            labels.append(region.label)
    return "; ".join(labels)
