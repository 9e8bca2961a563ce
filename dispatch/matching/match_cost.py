"""The cost of giving a job to a technician: each term, its price and its weight, written once.

Every term is in minutes of a dispatcher's time, so a price reads as "how many minutes of
driving is this worth"; lower is better. A term takes arrays (a value per technician or per day)
and gives minutes for each; a single candidate is an array of one. `Weights` are the tunable
multipliers (1 each by default), `Prices` the trade's figures behind each term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Weights:
    travel: float = 1.0
    lateness: float = 1.0
    parts: float = 1.0
    overqualification: float = 1.0
    continuity: float = 1.0
    workload: float = 1.0


@dataclass(frozen=True)
class Prices:
    risk_per_missing_min: float = 0.5  # each minute of slack under the risk horizon
    missing_parts_min: float = 60.0  # all likely parts missing: the price of coming back
    per_level_over_min: float = 5.0  # each skill level above what the job needs
    served_asset_min: float = 20.0  # off for who served this asset before
    preferred_min: float = 30.0  # off for the customer's preferred technician
    full_day_min: float = 30.0  # times the share of the shift booked, job included


PRICES = Prices()


def travel(added_s: Array, w: Weights) -> Array:
    """Added driving, a depot detour's included."""
    minutes: Array = w.travel * added_s / 60
    return minutes


def lateness_risk(slack_s: Array, horizon_s: float, w: Weights) -> Array:
    """Slack the day keeps after the job: under the horizon it is a risk."""
    minutes: Array = w.lateness * PRICES.risk_per_missing_min * np.maximum(0.0, horizon_s - slack_s) / 60
    return minutes


def parts(coverage: Array, w: Weights) -> Array:
    """Coverage is the probability-weighted share of the likely parts that will be there."""
    minutes: Array = w.parts * PRICES.missing_parts_min * (1 - coverage)
    return minutes


def overqualification(levels_over: Array, w: Weights) -> Array:
    minutes: Array = w.overqualification * PRICES.per_level_over_min * np.maximum(0.0, levels_over)
    return minutes


def continuity(served: Array, preferred: Array, w: Weights) -> Array:
    """served, preferred: 1 where it holds, 0 where not."""
    minutes: Array = -w.continuity * (PRICES.served_asset_min * served + PRICES.preferred_min * preferred)
    return minutes


def workload(booked_s: Array, duration_s: float, shift_s: Array, w: Weights) -> Array:
    minutes: Array = w.workload * PRICES.full_day_min * np.minimum(1.0, (booked_s + duration_s) / shift_s)
    return minutes


def placement(added_s: Array, slack_s: Array, coverage: Array, horizon_s: float, w: Weights) -> Array:
    """The terms that depend on where in a day the job goes: how each day's best place is chosen."""
    minutes: Array = travel(added_s, w) + lateness_risk(slack_s, horizon_s, w) + parts(coverage, w)
    return minutes
