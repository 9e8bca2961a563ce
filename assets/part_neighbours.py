"""Parts one size either side of another: the springs a wire size up and down, the capacitor a
rating up and down. Read off the fitment rules, so no catalogue has to say it twice: parts whose
rules differ only in one numeric condition (`spring_size = 218` beside `spring_size = 225`,
both for two-spring doors) are neighbours along it. Ranges ("181..220") order nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from assets.parts_prediction import PartRef

FitmentRule = tuple[PartRef, str, Mapping[str, object]]  # part, asset kind, conditions


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def size_neighbours(rules: Iterable[FitmentRule]) -> dict[UUID, list[PartRef]]:
    ladders: dict[tuple[str, str, str, frozenset[tuple[str, str]]], dict[float, PartRef]] = {}
    for part, kind, conditions in rules:
        for key, value in conditions.items():
            size = _number(value)
            if size is None:
                continue
            rest = frozenset((k, repr(v)) for k, v in conditions.items() if k != key)
            ladders.setdefault((kind, part.family, key, rest), {}).setdefault(size, part)
    found: dict[UUID, list[PartRef]] = {}
    for rungs in ladders.values():
        order = [rungs[size] for size in sorted(rungs)]
        for index, part in enumerate(order):
            near = found.setdefault(part.part_id, [])
            for other in order[max(0, index - 1) : index] + order[index + 1 : index + 2]:
                if other.part_id != part.part_id and other not in near:
                    near.append(other)
    return {pid: near for pid, near in found.items() if near}
