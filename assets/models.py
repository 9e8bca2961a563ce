"""Customers, sites and who lived there, installed assets and their history, parts and fitments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, NewType
from uuid import UUID

import msgspec

CustomerId = NewType("CustomerId", UUID)
SiteId = NewType("SiteId", UUID)
AssetId = NewType("AssetId", UUID)
PartId = NewType("PartId", UUID)

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[0-9+() .\-]+$")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$", description="lower_snake_case code")]
Attributes = dict[str, Any]


class Customer(msgspec.Struct, frozen=True, kw_only=True):
    id: CustomerId
    external_id: str | None
    name: str
    email: str | None
    phone: str | None
    notes: str
    created_at: datetime
    updated_at: datetime


__all__ = [
    "AssetId",
    "Attributes",
    "Code",
    "Customer",
    "CustomerId",
    "Email",
    "ExternalId",
    "Latitude",
    "Longitude",
    "Name",
    "PartId",
    "Phone",
    "SiteId",
    "date",
]
