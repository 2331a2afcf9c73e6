"""Resume an interrupted fit from its last finished epoch: the run's folder under KERAS_HOME, its backup and epoch log.

With several processes, resume from the last epoch all of them finished, and say clearly when one is lost.

Every process keeps its own Keras `BackupAndRestore` (with `double_checkpoint`: the latest epoch and the one
before). A process can be lost after another has backed up one epoch more, so before fitting the processes
exchange their latest epochs (the backend's own collective) and every process resumes from the smallest: one
that is ahead takes its previous backup, which Keras keeps for that purpose.
"""

import atexit
import contextlib
import time
import json
import os
import re
import shutil
import sys
from pathlib import Path

import keras
import numpy as np

from .processes import process_addresses
from ..data import cache_dir
from ..records import write_json_atomically
from ..settings import HEARTBEAT_S, HEARTBEAT_VAR, current, heartbeat_seconds  # noqa: F401
from .processes import several_processes


class LostProcessError(RuntimeError):
    """Another process of a several-process run stopped answering."""


def backup_callback(folder: Path):
    """Keras' BackupAndRestore in `folder`/backup, keeping the previous epoch too (double_checkpoint)."""
    return keras.callbacks.BackupAndRestore(str(folder / "backup"), double_checkpoint=True, delete_checkpoint=True)


def backed_up_epoch(folder: Path, previous: bool = False) -> int:
    """The epochs finished in the backup under `folder` (its latest, or the one before); 0 without one."""
    metadata = folder / "backup" / ("training_metadata.json.bkp" if previous else "training_metadata.json")
    return int(json.loads(metadata.read_text())["epoch"]) if metadata.exists() else 0


def epochs_of_every_process(epoch: int, placement) -> list:
    """Each process's `epoch`, gathered over the processes with the backend's own collective."""
    if getattr(placement, "processes", 1) == 1:
        return [epoch]
    if keras.backend.backend() == "jax":
        from jax.experimental import multihost_utils

        return [int(value) for value in np.ravel(multihost_utils.process_allgather(np.int32(epoch)))]
    import tensorflow as tf

    strategy = placement.strategy
    values = strategy.experimental_distribute_values_from_function(lambda _: tf.constant([epoch], tf.int64))
    per_process = max(1, placement.replicas // placement.processes)  # one value per device, process by process
    return [int(value) for value in strategy.gather(values, axis=0).numpy()[::per_process]]


def roll_back_one_epoch(folder: Path) -> None:
    """Make the previous backup the latest (Keras' own fall-back when the latest cannot be read)."""
    backup = folder / "backup"
    for name in ("latest.weights.h5", "training_metadata.json"):
        shutil.copyfile(backup / f"{name}.bkp", backup / name)


def agree_on_resume(folder: Path, placement) -> int:
    """The epoch every process resumes from: the smallest latest backup over the processes (0: from the start)."""
    mine = backed_up_epoch(folder)
    common = min(epochs_of_every_process(mine, placement))
    if common == 0 and (folder / "backup").exists():  # some process has nothing: all start over
        shutil.rmtree(folder / "backup")
    elif mine > common and backed_up_epoch(folder, previous=True) == common:
        roll_back_one_epoch(folder)
    elif mine > common:
        raise RuntimeError(
            f"This process backed up epoch {mine} but another only epoch {common}, and this one's "
            f"previous backup is not that epoch: delete {folder} on every machine and start over."
        )
    return common


def lost_process(error: BaseException, this_process: int = 0, processes: int = 2) -> str:
    """Which process an engine's error names as lost ("process 1 (host:port)"), or "another process"."""
    text = str(error)
    named = re.search(r"stopped sending heartbeats\):\s*/job:\w+/replica:\d+/task:(\d+)|[Tt]ask (\d+) heartbeat", text)
    if named:
        return f"process {named.group(1) or named.group(2)}"
    addresses = process_addresses() or [None] * processes
    others = [(index, address) for index, address in enumerate(addresses) if index != this_process]
    for index, address in others:
        if address and address in text:
            return f"process {index} ({address})"
    if len(others) == 1:  # two processes: the other one
        return f"process {others[0][0]}"
    return "another process"


LOST_SIGNS = re.compile(
    r"heartbeat|unhealthy|Connection (reset|closed|refused)|Failed to connect|Socket closed|"
    r"Gloo \w+ failed|Collective ops is aborted",
    re.IGNORECASE,
)


def looks_lost(error: BaseException) -> bool:
    """True when an engine's error (or one it was raised from) says another process went away."""
    while error is not None:
        if LOST_SIGNS.search(str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


def lost_process_message(error: BaseException, placement, resume_epoch: int, epochs: int) -> str:
    """The last line a surviving process prints: who was lost, how to restart, and from which epoch it resumes."""
    lost = lost_process(error, placement.process_id, placement.processes)
    return (
        f"{lost} of {placement.processes} was lost (this is process {placement.process_id}); nothing was recorded. "
        f"Start every process again with the same command and environment: the run "
        f"resumes from epoch {resume_epoch} of {epochs}, the last one every process finished."
    )


def leave_before_jax_shutdown(message: str) -> None:
    """At exit, print `message` as the last line and leave with status 1, before JAX's shutdown barrier (which would
    wait for the lost process until the heartbeat timeout and then abort with its own stack trace)."""

    def leave():
        sys.stdout.flush()
        print(message, file=sys.stderr, flush=True)
        os._exit(1)

    atexit.register(leave)  # atexit runs last-registered first: before the handler jax.distributed registered


def run_dir(budget: str, notebook: str, run: str) -> Path:
    """Where an unfinished run keeps its backup, and a finished one its weights (Keras' cache, not the project)."""
    return cache_dir().parent / "cifar_runs" / budget / notebook / run


class EpochLog(keras.callbacks.Callback):
    """Append each finished epoch's logs and seconds to a JSON file: a resumed fit keeps the whole history."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.entries = json.loads(path.read_text()) if path.exists() else []
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        self.entries = self.entries[:epoch] + [
            {"logs": {k: float(v) for k, v in (logs or {}).items()}, "seconds": seconds}
        ]
        write_json_atomically(self.path, self.entries)

    def keep(self, epochs: int) -> None:
        """Forget the epochs after the first `epochs` (a resume from an earlier epoch than this process logged)."""
        if len(self.entries) > epochs:
            self.entries = self.entries[:epochs]
            write_json_atomically(self.path, self.entries)

    def history(self) -> dict:
        """{metric: [value per epoch]} over every epoch logged, across sittings."""
        keys = self.entries[0]["logs"].keys() if self.entries else []
        return {key: [entry["logs"][key] for entry in self.entries] for key in keys}

    def seconds(self) -> float:
        """Training seconds over every epoch logged, across sittings."""
        return sum(entry["seconds"] for entry in self.entries)


class FinalWeights(keras.callbacks.Callback):
    """Save the weights (with the optimizer's state) when the fit has run all its epochs: what a reuse loads."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def on_train_end(self, logs=None):
        self.model.save_weights(self.path)  # on every process: JAX saves collectively


def process_folder(folder: Path, placement=None) -> Path:
    """This process's run folder: process 0 the run's own, another a sibling on its machine (<run>.process<N>)."""
    index = getattr(placement, "process_id", 0)
    return folder if index == 0 else folder.with_name(f"{folder.name}.process{index}")


@contextlib.contextmanager
def run_folder(folder: Path, wanted: dict, placement=None):
    """Where this process keeps its backup and epoch log while it fits, and process 0 the final weights.

    A backup of other settings is removed first (never resumed from). Another process than 0 removes its
    folder when the run is done (an interrupted one keeps it, to resume from).
    """
    folder = process_folder(folder, placement)
    stamp = folder / "settings.json"
    stale = not stamp.exists() or json.loads(stamp.read_text()) != json.loads(json.dumps(wanted))
    if folder.exists() and stale:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomically(stamp, wanted)
    yield folder
    if not getattr(placement, "writes_files", True):
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def lost_process_guard(placement, folder: Path, epochs: int):
    """With several processes, turn the engine's error for a lost process into LostProcessError's one clear line
    (any other error passes through as it is)."""
    try:
        yield
    except Exception as error:  # the engines raise their own types (XlaRuntimeError, tf.errors.*): judge by text
        if not (several_processes(placement) and looks_lost(error)):
            raise
        message = lost_process_message(error, placement, backed_up_epoch(folder), epochs)
        if keras.backend.backend() == "jax":
            leave_before_jax_shutdown(message)
        raise LostProcessError(message) from error
