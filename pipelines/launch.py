"""Run a job of the graph from the CLI: in this process, recorded in the Dagster instance under
``$SOUNDLAKE_HOME/dagster`` (the one ``soundlake ui`` shows).

The run is created the way the webserver would create it (its code location ``soundlake``, from
workspace.yaml), so the UI lists it with its materializations, checks and plots, and can
re-execute it. It executes here, in-process, so the command waits for it and prints what it did;
a daemon started by ``soundlake ui`` is not involved.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import dagster as dg

from resources.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCATION = "soundlake"  # workspace.yaml
MODULE = "pipelines.definitions"
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}  # the CLI prints its own lines


def instance_home(settings: Settings) -> Path:
    """``$SOUNDLAKE_HOME/dagster`` with the instance configuration of this repository."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def instance(settings: Settings) -> dg.DagsterInstance:
    """The instance under ``$SOUNDLAKE_HOME/dagster`` (``dagster.yaml`` there names its folders by
    ``$DAGSTER_HOME``, set while it loads, as ``soundlake ui`` sets it for the webserver)."""
    _fast_sqlite()
    home = str(instance_home(settings))
    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = home
    try:
        return dg.DagsterInstance.from_config(home)
    finally:
        if saved is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = saved


_LISTENING: list[bool] = []


def _fast_sqlite() -> None:
    """The local instance's SQLite files in WAL mode with ``synchronous=NORMAL``: a run writes
    ~10 events a step, and a full fsync per event was a third of the overhead of a run. A power
    cut may lose the last events of a run, never the database (SQLite's own guarantee); the lake
    does not depend on them."""
    if _LISTENING:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record):
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    _LISTENING.append(True)


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    failures: list[str] = field(default_factory=list)  # "step: error" of each failed step
    materializations: dict[str, dict] = field(default_factory=dict)  # asset key -> metadata (plain values)
    check_failures: list[str] = field(default_factory=list)  # "asset:check" of checks that did not pass
    error_classes: set[str] = field(default_factory=set)  # class names of the failed steps' errors

    @property
    def unreachable(self) -> bool:
        """Whether the run failed because the S3 server could not be reached."""
        return not self.success and "StorageUnavailable" in self.error_classes

    def metadata(self, key: str) -> dict:
        return self.materializations.get(key, {})


def new_run_id() -> str:
    return str(uuid.uuid4())


def run_job(settings: Settings, job_name: str, *, asset_selection: Iterable[dg.AssetKey] | None = None,
            tags: Mapping[str, str] | None = None, run_config: Mapping | None = None,
            run_id: str | None = None) -> RunOutcome:
    """Create ``job_name``'s run (of ``asset_selection`` when given) in the instance and execute it
    here. Returns its outcome; a failed step does not raise."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import execute_run
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    recon_job = ReconstructableRepository.for_module(MODULE, "defs", working_directory=str(REPO_ROOT)) \
        .get_reconstructable_job(job_name)
    selection = frozenset(asset_selection) if asset_selection is not None else None
    if selection is not None:
        recon_job = recon_job.get_subset(asset_selection=selection)
    job_def = recon_job.get_definition()
    origin = RemoteJobOrigin(
        RemoteRepositoryOrigin(
            ManagedGrpcPythonEnvCodeLocationOrigin(
                LoadableTargetOrigin(executable_path=sys.executable, module_name=MODULE,
                                     working_directory=str(REPO_ROOT)),
                LOCATION),
            "__repository__"),
        job_name)
    config = {**QUIET_LOGS, **(run_config or {})}
    with instance(settings) as inst:
        run = inst.create_run_for_job(
            job_def, run_id=run_id or new_run_id(), run_config=config,
            tags={**job_def.run_tags, "soundlake/trigger": "cli", **(tags or {})},  # as the daemon tags its runs
            asset_selection=selection, job_code_origin=recon_job.get_python_origin(), remote_job_origin=origin,
        )
        execute_run(recon_job, run, inst)
        return _outcome(inst, run.run_id)


def _outcome(inst: dg.DagsterInstance, run_id: str) -> RunOutcome:
    run = inst.get_run_by_id(run_id)
    outcome = RunOutcome(run_id, run is not None and run.is_success)
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.STEP_FAILURE,
             dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    for record in inst.all_logs(run_id, of_type=kinds):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            outcome.materializations[mat.asset_key.to_user_string()] = {
                k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            while error is not None and error.cause is not None:  # Dagster wraps the op's own exception
                error = error.cause
            outcome.failures.append(f"{event.step_key}: {(error.message if error else event.message or '').strip()}")
            if error is not None:
                outcome.error_classes.add(error.cls_name)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                outcome.check_failures.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    if run is not None and not run.is_success and not outcome.failures:
        outcome.failures.append(f"the run ended {run.status.value.lower()}")
    return outcome
