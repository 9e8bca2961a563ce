"""Which parts a job will need, with a probability and the reasons a technician would accept.

Pure: the evidence comes in as plain values (see `Evidence`), so the same rule serves a live
intake (evidence from SQL) and the backtest (evidence accumulated while replaying history).

The model, per part family ("torsion_spring", "windshield"):
- P(the fix uses the family) is a Beta-smoothed rate: the problem's rate across the whole installed
  base (prior: the catalogue says whether the family is usual for the fix) shrinks this make and
  model's own rate toward it when the model has few jobs on record.
- Which part of the family: votes from this asset's own history (what was fitted last time), the
  fitment rules for its attributes, and what fixed this problem on this make and model; the
  family's probability is shared out by the votes, so agreeing evidence gives one confident
  part and conflicting evidence two less certain ones.
- Quantity: what was used last time on this asset, else the fitment's, else the usual; always a
  multiple of what the part is sold in (springs for a two-spring door come as a pair).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from assets.parts_carry import Option, carry_values

# Beta prior strength for the problem-wide rate, and how many jobs of one make/model weigh as
# much as that rate: 5 jobs of a model move the estimate halfway from the fleet's to the model's.
PRIOR_STRENGTH = 2.0
MODEL_SHRINKAGE = 5.0
USUAL_PRIOR = 0.5  # a family the catalogue lists for the fix
UNUSUAL_PRIOR = 0.02  # any other family seen with the problem
VOTE_OWN_HISTORY = 4.0
VOTE_FITMENT = 3.0
VOTE_BASE = 2.0
# Records are typed wrong and installers stray from the chart, mostly by one size: the sizes either
# side of the one the record gives share this vote.
VOTE_NEIGHBOURS = 1.0
MIN_PROBABILITY = 0.05
# The cost of an extra line on the van, against the chance of finishing at once (parts_carry):
# on the messy benchmark base, 0.2 covers about 90% of the first visits that use a part for 0.6
# extra lines each (0.1: 95% for 1.0).
CARRY_COST = 0.2


@dataclass(frozen=True)
class PartRef:
    part_id: UUID
    sku: str
    name: str
    family: str
    sold_in_multiples_of: int = 1


@dataclass(frozen=True)
class OwnUse:
    """A part fitted to this very asset before."""

    part: PartRef
    quantity: int
    occurred_at: datetime


@dataclass(frozen=True)
class Fitting:
    """A part the fitment rules give for this asset."""

    part: PartRef
    quantity: int
    rule: str  # "spring_size = 218, springs = 2"

    @property
    def by_range(self) -> bool:
        """The rule matched a range of the record ("weight_lb = 181..220"), not an exact value."""
        return ".." in self.rule


@dataclass
class UsageCounts:
    """Completed jobs of one problem (and choice), and in how many each family and part was used."""

    jobs: int = 0
    family_jobs: dict[str, int] = field(default_factory=dict)
    part_jobs: dict[UUID, int] = field(default_factory=dict)
    part_quantities: dict[UUID, dict[int, int]] = field(default_factory=dict)  # part -> quantity -> jobs
    second_visit_jobs: dict[str, int] = field(default_factory=dict)  # family -> follow-ups that brought it


@dataclass(frozen=True)
class Evidence:
    usual_families: frozenset[str]  # from the catalogue
    fleet: UsageCounts  # this problem, every make and model
    model: UsageCounts  # this problem on this make and model
    own_history: Sequence[OwnUse]  # newest last
    fittings: Sequence[Fitting]
    parts: Mapping[UUID, PartRef]  # every part the counts mention
    make_model: str  # "Clopay Classic Steel 4050", for the reasons
    # part -> the parts one size either side of it (same family, same kind of asset)
    neighbours: Mapping[UUID, Sequence[PartRef]] = field(default_factory=dict)


@dataclass(frozen=True)
class PredictedPart:
    part: PartRef
    quantity: int
    probability: float
    reasons: tuple[str, ...]
    carry_value: float = 0.0  # carried while the cost of an extra line is below this (parts_carry)
    carry: bool = False  # on the van for this job: carry_value >= CARRY_COST


def family_probability(family: str, evidence: Evidence) -> float:
    prior = USUAL_PRIOR if family in evidence.usual_families else UNUSUAL_PRIOR
    fleet_rate = (evidence.fleet.family_jobs.get(family, 0) + PRIOR_STRENGTH * prior) / (
        evidence.fleet.jobs + PRIOR_STRENGTH
    )
    return (evidence.model.family_jobs.get(family, 0) + MODEL_SHRINKAGE * fleet_rate) / (
        evidence.model.jobs + MODEL_SHRINKAGE
    )


def round_to_pack(quantity: int, multiple: int) -> int:
    return max(multiple, math.ceil(quantity / multiple) * multiple)


def _usual_quantity(counts: UsageCounts, part_id: UUID) -> int:
    by_quantity = counts.part_quantities.get(part_id, {})
    return max(by_quantity, key=lambda q: (by_quantity[q], -q)) if by_quantity else 1


def predict_parts(evidence: Evidence) -> list[PredictedPart]:
    families = set(evidence.usual_families) | set(evidence.fleet.family_jobs)
    known = (
        {u.part.part_id: u.part for u in evidence.own_history}
        | {f.part.part_id: f.part for f in evidence.fittings}
        | {n.part_id: n for near in evidence.neighbours.values() for n in near}
    )
    predicted: list[PredictedPart] = []
    for family in sorted(families):
        p_family = family_probability(family, evidence)
        votes: dict[UUID, float] = {}
        quantity: dict[UUID, int] = {}
        reasons: dict[UUID, list[str]] = {}

        last_own = next((u for u in reversed(evidence.own_history) if u.part.family == family), None)
        if last_own is not None:
            pid = last_own.part.part_id
            votes[pid] = votes.get(pid, 0) + VOTE_OWN_HISTORY
            quantity[pid] = last_own.quantity
            when = f"{last_own.occurred_at:%Y-%m}"
            reasons.setdefault(pid, []).append(
                f"replaced {last_own.quantity} × {last_own.part.sku} on this asset in {when}"
            )
        for fit in (f for f in evidence.fittings if f.part.family == family):
            pid = fit.part.part_id
            votes[pid] = votes.get(pid, 0) + VOTE_FITMENT
            quantity.setdefault(pid, fit.quantity)
            rule = f" ({fit.rule})" if fit.rule else ""
            reasons.setdefault(pid, []).append(f"fits this asset{rule}: {fit.quantity} × {fit.part.sku}")
        fitted = {f.part.part_id for f in evidence.fittings}
        in_family = [f for f in evidence.fittings if f.part.family == family]
        # A size on record is trusted as it is; one read off a range (the door's weight on the
        # chart, the size itself missing) may be a size off either way.
        for fit in in_family if all(f.by_range for f in in_family) else ():
            near = [n for n in evidence.neighbours.get(fit.part.part_id, ()) if n.part_id not in fitted]
            for part in near:
                votes[part.part_id] = votes.get(part.part_id, 0) + VOTE_NEIGHBOURS / len(near)
                quantity.setdefault(part.part_id, fit.quantity)
                reasons.setdefault(part.part_id, []).append(
                    f"one size from {fit.part.sku}, which a range on record gives ({fit.rule}), not a size"
                )
        family_parts = {
            pid: n
            for pid, n in evidence.model.part_jobs.items()
            if pid in evidence.parts and evidence.parts[pid].family == family
        }
        total = sum(family_parts.values())
        for pid, n in family_parts.items():
            votes[pid] = votes.get(pid, 0) + VOTE_BASE * n / total
            quantity.setdefault(pid, _usual_quantity(evidence.model, pid))
            if n * 4 >= total:  # only say it when it is a real share
                reasons.setdefault(pid, []).append(
                    f"used in {n} of {evidence.model.jobs} such jobs on {evidence.make_model}"
                )
        if not votes:
            continue
        fetched = evidence.model.second_visit_jobs.get(family, 0)
        vote_total = sum(votes.values())
        carry = carry_values(p_family, [Option(pid, vote / vote_total) for pid, vote in votes.items()])
        # Only lines that are listed can be carried: a rare option is neither.
        listed = {pid for pid, vote in votes.items() if p_family * vote / vote_total >= MIN_PROBABILITY}
        carried_share = (
            sum(votes[pid] for pid, value in carry.items() if value >= CARRY_COST and pid in listed)
            / vote_total
        )
        covers = (1 - p_family) + p_family * carried_share
        for pid, vote in votes.items():
            probability = p_family * vote / vote_total
            if probability < MIN_PROBABILITY:
                continue
            part = evidence.parts.get(pid) or known[pid]
            why = reasons.get(pid, [])
            if fetched:
                why = [*why, f"{fetched} past job(s) had to come back for a {family.replace('_', ' ')}"]
            if carry[pid] >= CARRY_COST:
                words = family.replace("_", " ")
                why = [
                    *why,
                    f"to carry: with it the van has the right {words} on {covers:.0%} of such visits",
                ]
            predicted.append(
                PredictedPart(
                    part=part,
                    quantity=round_to_pack(quantity.get(pid, 1), part.sold_in_multiples_of),
                    probability=round(probability, 3),
                    reasons=tuple(why),
                    carry_value=round(carry[pid], 4),
                    carry=carry[pid] >= CARRY_COST,
                )
            )
    predicted.sort(key=lambda p: (-p.probability, p.part.sku))
    return predicted
