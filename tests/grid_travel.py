"""A travel model for hand-computed tests: 1 degree = 1000 s, Manhattan distance."""

from __future__ import annotations

import numpy as np

from dispatch.travel.sources import Point


class GridTravel:
    """1 degree = 1000 s, Manhattan distance: easy to compute by hand."""

    @staticmethod
    def seconds(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        result: np.ndarray = 1000 * np.abs(np.asarray(a) - np.asarray(b)).sum(axis=-1)
        return result

    async def from_one(self, origin: Point, destinations: object) -> np.ndarray:
        return self.seconds(np.asarray(destinations).reshape(-1, 2), np.asarray(origin))

    async def to_one(self, origins: object, destination: Point) -> np.ndarray:
        return self.seconds(np.asarray(origins).reshape(-1, 2), np.asarray(destination))

    async def between(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        return self.seconds(origins, destinations)
