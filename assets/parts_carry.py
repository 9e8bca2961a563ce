"""What to carry for a job, not only what is likely: the set of parts that makes the visit most
likely to be finished at once, for the part lines it costs.

A visit is fully covered when every family it uses is covered, and each family independently:
P(covered) = Π_f [(1 − p_f) + p_f · Q_f], where p_f is the chance the fix uses family f and Q_f
the share of that family's likely parts on the van (the shares of a family's options add up to
one: the right spring is one of them). Every line carried that the visit does not use costs an
extra line, 1 − p_f · s on average. A line is worth carrying while the coverage it adds, in log
terms, beats `extra_cost` times the extra lines it is expected to cost.

So each line gets a carry value, the `extra_cost` up to which it is carried: the most likely
option of a family first, then the others in turn, each worth less than the one before. Two
parts that usually go together (a spring and its cables) are both carried because each family is
likely on its own; the alternatives of one repair (two spring sizes, when the record may be
wrong) are carried together when the second one's share buys enough coverage.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

# A family the evidence calls certain still leaves room for the visit that needs none of it, so
# the log never meets zero.
MAX_FAMILY_PROBABILITY = 0.999


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Option(Generic[K]):
    key: K  # the caller's handle for the part
    share: float  # P(this part | the family is used)


def carry_values(family_probability: float, options: Sequence[Option[K]]) -> dict[K, float]:
    """Each option's carry value, most likely first; never higher than the option before it."""
    p = min(max(family_probability, 0.0), MAX_FAMILY_PROBABILITY)
    values: dict[K, float] = {}
    covered, ceiling = 0.0, math.inf
    for option in sorted(options, key=lambda o: -o.share):
        before = (1 - p) + p * covered
        after = (1 - p) + p * min(1.0, covered + option.share)
        gain = math.log(after) - math.log(before)
        expected_extra = 1 - p * option.share
        value = gain / expected_extra if expected_extra > 0 else math.inf
        ceiling = min(ceiling, value)
        values[option.key] = ceiling
        covered += option.share
    return values


def coverage_chance(families: Sequence[tuple[float, float]]) -> float:
    """P(every family the visit uses is on the van), from (p_f, Q_f) per family."""
    chance = 1.0
    for p, carried_share in families:
        chance *= (1 - p) + p * min(1.0, carried_share)
    return chance
