"""Turning an address into coordinates, when a geocoder is configured. None is, by default, so
nothing reaches the internet unless an operator asks for it."""

from __future__ import annotations

import asyncio
from typing import Protocol

from geopy.geocoders import get_geocoder_for_service


class Geocoder(Protocol):
    async def locate(self, address: str) -> tuple[float, float] | None: ...


class GeopyGeocoder:
    """Any geopy geocoder by service name; geopy is synchronous, so it runs in a thread."""

    def __init__(self, service: str, user_agent: str, timeout_s: float = 5.0) -> None:
        self._geocoder = get_geocoder_for_service(service)(user_agent=user_agent, timeout=timeout_s)

    async def locate(self, address: str) -> tuple[float, float] | None:
        found = await asyncio.to_thread(self._geocoder.geocode, address)
        return None if found is None else (float(found.latitude), float(found.longitude))


def geocoder_from_settings(service: str | None, user_agent: str) -> Geocoder | None:
    return None if service is None else GeopyGeocoder(service, user_agent)
