"""Distances on the ground (geopy's geodesic on the WGS-84 ellipsoid); the travel model grows here."""

from __future__ import annotations

from geopy.distance import geodesic


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(geodesic(a, b).meters)
