"""Reference data the warehouse loads as tables: territories and the store → platform mapping.

Both are plain DataFrames built from code (the mapping in :mod:`assets.model`, ISO 3166 from
``pycountry``), so a fresh warehouse gets them without any download.
"""

from __future__ import annotations

import pandas as pd
import pycountry

from .model import STORE_PLATFORMS

# Codes distributors use that are not ISO 3166-1 countries.
EXTRA_TERRITORIES = (
    ("OU", None, "Outside the US", "distributor",
     "DistroKid: sales reported for everywhere outside the US together (Facebook/Instagram lines)"),
    ("XK", "XKX", "Kosovo", "user-assigned", "user-assigned code in common use (not in ISO 3166-1)"),
    ("ZZ", None, "Unknown territory", "user-assigned", "a store reported no country"),
)


def territories() -> pd.DataFrame:
    """Every ISO 3166-1 country (alpha-2, alpha-3, name) plus the codes distributors add."""
    rows = [(c.alpha_2, c.alpha_3, getattr(c, "common_name", None) or c.name, "iso3166", None)
            for c in pycountry.countries]
    known = {r[0] for r in rows}
    rows += [r for r in EXTRA_TERRITORIES if r[0] not in known]
    return pd.DataFrame(rows, columns=["code", "alpha3", "name", "kind", "note"]).sort_values("code", ignore_index=True)


def store_platforms() -> pd.DataFrame:
    """Store names as distributors spell them (lower case) → conformed platform."""
    return pd.DataFrame(sorted(STORE_PLATFORMS.items()), columns=["store_lower", "platform"])


REFERENCE_TABLES = {"dim_territory": territories, "ref_store_platform": store_platforms}
