"""Data quality: Great Expectations 1.x suites run on staging data.

The same suites run in two places: on each new file before it enters staging (a file that fails
is quarantined, so bad data never spreads), and as Dagster asset checks over a whole staging
dataset. GX is imported lazily: it is slow to import and only needed when there is data to check.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import pandas as pd

# the plausible range of a count (streams, views, clicks): a value outside is a parsing mistake
COUNT = (0, 10_000_000_000)


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    detail: str

    def __str__(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        return f"{self.expectation}{where}: {self.detail}"


def suite(
    *,
    key: Sequence[str] = (),
    not_null: Sequence[str] = (),
    unique: Sequence[str] = (),
    between: Mapping[str, tuple[float | None, float | None]] | None = None,
    non_negative: Sequence[str] = (),
    regex: Mapping[str, str] | None = None,
    in_set: Mapping[str, Sequence] | None = None,
    ordered: Sequence[tuple[str, str]] = (),
    mostly: Mapping[str, float] | None = None,
) -> Callable[[], list]:
    """A dataset's suite, declared: ``key`` columns unique together; ``not_null`` and ``unique``
    columns; values ``between`` bounds (None: open), ``non_negative``, matching a ``regex`` or
    ``in_set``; ``ordered`` pairs ``(a, b)`` with a <= b on every row. ``mostly`` relaxes a
    column's value checks to that fraction of rows. Returns what :attr:`Dataset.expectations`
    wants: a callable building the expectations when asked, so GX is imported only then."""
    between, regex, in_set, mostly = dict(between or {}), dict(regex or {}), dict(in_set or {}), dict(mostly or {})

    def build() -> list:
        import great_expectations.expectations as gxe

        def relaxed(column: str) -> dict:
            return {"mostly": mostly[column]} if column in mostly else {}

        checks = [gxe.ExpectColumnValuesToNotBeNull(column=c, **relaxed(c)) for c in not_null]
        checks += [gxe.ExpectColumnValuesToBeUnique(column=c) for c in unique]
        checks += [gxe.ExpectColumnValuesToMatchRegex(column=c, regex=r, **relaxed(c)) for c, r in regex.items()]
        checks += [gxe.ExpectColumnValuesToBeInSet(column=c, value_set=list(v), **relaxed(c)) for c, v in in_set.items()]
        bounds = {**{c: (0, None) for c in non_negative}, **between}
        checks += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=lo, max_value=hi, **relaxed(c))
                   for c, (lo, hi) in bounds.items()]
        checks += [gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=b, column_B=a, or_equal=True)
                   for a, b in ordered]
        if key:
            checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(key)))
        return checks

    return build


@functools.lru_cache(maxsize=1)
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX announces its temporary docs folder at INFO on its own logger; that is noise for a user
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _batch(name: str, df: pd.DataFrame):
    context = _context()
    try:
        source = context.data_sources.get("soundlake")
    except Exception:  # noqa: BLE001 - GX raises its own not-found types across versions
        source = context.data_sources.add_pandas("soundlake")
    try:
        asset = source.get_asset(name)
    except Exception:  # noqa: BLE001
        asset = source.add_dataframe_asset(name)
    try:
        definition = asset.get_batch_definition("whole")
    except Exception:  # noqa: BLE001
        definition = asset.add_batch_definition_whole_dataframe("whole")
    return definition.get_batch(batch_parameters={"dataframe": df})


def validate(name: str, df: pd.DataFrame, expectations: list) -> list[Failure]:
    """Run a suite over ``df``; returns the failed expectations (empty when all pass)."""
    import great_expectations as gx

    if not expectations:
        return []
    frame = df.copy()
    for col in frame.columns:  # GX's pandas engine wants plain object/float columns, not Arrow dtypes
        if isinstance(frame[col].dtype, pd.ArrowDtype) or str(frame[col].dtype) in ("string", "Int64"):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    suite = gx.ExpectationSuite(name=f"{name}_suite", expectations=expectations)
    result = _batch(name.replace("/", "__"), frame).validate(suite)
    failures = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        kwargs = cfg.kwargs
        res = r.result or {}
        detail = []
        if "unexpected_count" in res:
            detail.append(f"{res['unexpected_count']} of {res.get('element_count', '?')} rows unexpected")
        if res.get("partial_unexpected_list"):
            detail.append(f"e.g. {res['partial_unexpected_list'][:3]}")
        if r.exception_info and r.exception_info.get("raised_exception"):
            detail.append(str(r.exception_info.get("exception_message")))
        failures.append(Failure(cfg.type, kwargs.get("column"), "; ".join(detail) or "failed"))
    return failures
