"""Facebook through Meta Business Suite exports and Graph API page insights: the same shapes as
Instagram's, declared once in :mod:`.meta_business_suite` (see there for the formats and the traps)."""

from __future__ import annotations

from .meta_business_suite import meta_source

SOURCE = meta_source("facebook")
