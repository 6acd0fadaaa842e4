"""Reference data the warehouse loads as tables: territories, the store → platform mapping and
the precedence of stream sources.

All are plain DataFrames built from code (the mapping in :mod:`assets.model`, ISO 3166 from
``pycountry``, the precedence from the source modules), so a fresh warehouse gets them without
any download.
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


def stream_source_precedence() -> pd.DataFrame:
    """Which source wins when several report an artist's streams (``v_streams_daily``): each
    source module declares its ``stream_precedence`` (1 = the platform's own artist dashboard,
    higher = distributors; lower wins); a source that declares none ranks 9."""
    from .sources import SOURCES

    rows = sorted((s.name, s.stream_precedence) for s in SOURCES.values() if s.stream_precedence is not None)
    return pd.DataFrame(rows, columns=["source", "priority"]).astype({"priority": "int64"})


REFERENCE_TABLES = {"dim_territory": territories, "ref_store_platform": store_platforms,
                    "ref_stream_source_precedence": stream_source_precedence}
