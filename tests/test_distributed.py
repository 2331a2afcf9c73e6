"""Several processes: two on 127.0.0.1 train through setup_devices and train_and_record, on the running backend.

JAX: keras.distribution (KERAS_DISTRIBUTION_*). TensorFlow: MultiWorkerMirroredStrategy (TF_CONFIG), mended
for keras-team/keras#20585 in cifar_helpers/tf_multiworker.py. Both processes must end with the same weights,
those of one process trained on the same global batches (started at the same time), and leave one record.
Each process then predicts every test image (model.predict) alike. A pair that loses a process after
epoch 2 stops with one clear line, and started again ends where an uninterrupted pair does.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest

from cifar_helpers.feed import ArrayBatches, check_global_batch, evaluation_batch_size, make_batches
from cifar_helpers.machinery.processes import (
    JAX_VARIABLES,
    configured_processes,
    this_process_writes,
    tf_config_process,
)
from cifar_helpers.machinery.resume import HEARTBEAT_VAR, heartbeat_seconds, looks_lost, lost_process

PROJECT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("distributed_worker.py")
TOLERANCE = 1e-5  # largest |difference| allowed between a process's weights and the one-process run's
RESUME_TOLERANCE = 1e-6  # between a resumed two-process run and an uninterrupted one (the same batches, in order)
EPOCHS, KILL_AFTER = 4, 2  # process 1 of the cut pair is killed once epoch 2 of 4 is backed up
LOST_BOUND_S = 60  # from the kill to the survivor's exit (measured: TensorFlow 8-31 s, JAX 1.5-17 s)
DEADLINE_S = 150  # all processes of one launch together, start-up included


def free_ports(count: int) -> list:
    """`count` ports that were free a moment ago (bound to port 0 by the system, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def cluster_environments(backend: str, tmp_path: Path, count: int) -> list:
    """The environment of each of `count` processes on 127.0.0.1, with the test's own results and cache folders.

    One JAX process gets no KERAS_DISTRIBUTION_* (the notebooks' plain path). One TensorFlow process is a
    one-worker TF_CONFIG cluster: Keras reads the first batch of a tf.distribute run once before training,
    which draws one reshuffle of the tf.data pipeline, so only a strategy run sees the same batches as two workers.
    """
    base = {key: value for key, value in os.environ.items() if key not in (*JAX_VARIABLES, "TF_CONFIG", "XLA_FLAGS")}
    base.update(
        KERAS_BACKEND=backend,
        CIFAR_RESULTS_DIR=str(tmp_path / "results"),
        KERAS_HOME=str(tmp_path / "keras"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    )
    if backend == "jax" and count == 1:
        return [base]
    if backend == "jax":
        address = f"127.0.0.1:{free_ports(1)[0]}"
        return [
            {
                **base,
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": address,
                "KERAS_DISTRIBUTION_NUM_PROCESSES": str(count),
                "KERAS_DISTRIBUTION_PROCESS_ID": str(index),
            }
            for index in range(count)
        ]
    workers = [f"127.0.0.1:{port}" for port in free_ports(count)]
    return [
        {**base, "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        for index in range(count)
    ]


def start_processes(backend: str, tmp_path: Path, count: int, epochs: int = EPOCHS, kill_after=None) -> list:
    """Start `count` processes training together (process 1 killed after epoch `kill_after`); return [Started]."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    started = []
    for index, env in enumerate(cluster_environments(backend, tmp_path, count)):
        out, log = tmp_path / f"weights{index}.npz", tmp_path / f"log{index}.txt"
        kill = [str(kill_after)] if kill_after and index == 1 else []
        process = subprocess.Popen(
            [sys.executable, str(WORKER), str(out), str(epochs), *kill],
            env=env,
            cwd=tmp_path,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        started.append(Started(process, out, log))
    return started


@dataclass
class Started:
    """One started process, its weights file and its log; `ended`: when it was seen to exit (time.time)."""

    process: subprocess.Popen
    weights: Path
    log: Path
    ended: float = 0.0

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for(started: list, deadline_s: float = DEADLINE_S) -> list:
    """Wait for every process, noting when each exits; kill them all and fail past the deadline. Returns their logs."""
    deadline = time.monotonic() + deadline_s
    while any(one.process.poll() is None for one in started):
        if time.monotonic() > deadline:
            for one in started:
                one.process.kill()
            pytest.fail(
                "the processes ran past the deadline:\n" + "\n---\n".join(one.text()[-2000:] for one in started)
            )
        for one in started:
            if not one.ended and one.process.poll() is not None:
                one.ended = time.time()
        time.sleep(0.1)
    for one in started:
        one.ended = one.ended or time.time()
    return [one.text() for one in started]


def finish(started: list) -> list:
    """wait_for every process, failing with its log unless every one exits 0."""
    logs = wait_for(started)
    for index, (one, log) in enumerate(zip(started, logs)):
        assert one.process.returncode == 0, f"process {index} failed:\n{log[-3000:]}"
    return logs


def weights(started: list) -> list:
    """Each process's final weights, as saved by distributed_worker."""
    return [list(np.load(one.weights).values()) for one in started]


def largest_difference(first: list, second: list) -> float:
    """max |a - b| over every weight array."""
    return max(float(np.max(np.abs(a - b))) for a, b in zip(first, second))


def files_under(folder: Path) -> list:
    """Every file under `folder`, relative to it."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_two_processes_train_like_one_and_resume_after_losing_one(tmp_path, capsys):
    backend = keras.backend.backend()
    started_at = time.monotonic()
    pair, alone = start_processes(backend, tmp_path / "pair", 2), start_processes(backend, tmp_path / "alone", 1)
    cut = start_processes(backend, tmp_path / "cut", 2, kill_after=KILL_AFTER)
    logs = finish(pair + alone)
    survivor_log, _ = wait_for(cut)
    survivor, lost = cut
    (first, second), (reference,) = weights(pair), weights(alone)
    apart, off = largest_difference(first, second), largest_difference(first, reference)
    assert "processes: 2 (this is 0)" in logs[0] and "processes: 2 (this is 1)" in logs[1], logs[0][-2000:]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert off <= TOLERANCE
    predicted = [np.load(str(one.weights).replace(".npz", ".predict.npy")) for one in pair + alone]
    assert predicted[0].shape == (20, 10) and np.array_equal(predicted[0], predicted[1])  # every process: all outputs
    assert float(np.max(np.abs(predicted[0] - predicted[2]))) <= TOLERANCE
    records = list((tmp_path / "pair" / "results").rglob("*.json"))
    assert len(records) == 1 and "processes: 2 (this is 0)" in json.loads(records[0].read_text())["device"]

    # The lost process: the survivor stops within the bound, its last line says who and how to go on, nothing written.
    assert lost.process.returncode == -signal.SIGKILL and survivor.process.returncode == 1, survivor_log[-3000:]
    to_error = survivor.ended - float(re.search(r"killing this process after epoch \d+ at ([\d.]+)", lost.text())[1])
    last_line = survivor_log.strip().splitlines()[-1]
    assert last_line.endswith(
        f"process 1 of 2 was lost (this is process 0); nothing was recorded. Start every "
        f"process again with the same command and environment: the run resumes from epoch "
        f"{KILL_AFTER} of {EPOCHS}, the last one every process finished."
    ), survivor_log[-3000:]
    assert to_error <= LOST_BOUND_S
    assert not (tmp_path / "cut" / "results").exists() or not files_under(tmp_path / "cut" / "results")
    kept = files_under(tmp_path / "cut" / "keras")
    assert not [name for name in kept if name.endswith(("final.weights.h5", ".tmp"))], kept

    # Both started again with the same command: the run goes on from epoch 2 and ends as the uninterrupted pair did.
    again = start_processes(backend, tmp_path / "cut", 2)
    resumed_logs = finish(again)
    resumed = weights(again)
    assert all(f"resuming from epoch {KILL_AFTER} of {EPOCHS}" in log for log in resumed_logs), resumed_logs[0][-2000:]
    record = json.loads(next((tmp_path / "cut" / "results").rglob("*.json")).read_text())
    assert len(record["history"]["loss"]) == EPOCHS and len(record["epoch_seconds"]) == EPOCHS
    assert largest_difference(resumed[0], first) <= RESUME_TOLERANCE
    assert all(np.array_equal(a, b) for a, b in zip(*resumed))
    assert files_under(tmp_path / "cut" / "keras" / "cifar_runs") == [  # the backups gone, process 1's folder too
        f"smoke/99_distributed/tiny/{name}" for name in ("final.weights.h5", "log.csv", "settings.json")
    ]
    with capsys.disabled():
        print(
            f"\n{backend}: 2 processes + 1 alone + 2 cut, {time.monotonic() - started_at:.0f} s in all; "
            f"|process 0 - process 1| <= {apart:.2e}; |process 0 - one process| <= {off:.2e}; "
            f"kill to clear error {to_error:.1f} s; |resumed - uninterrupted| <= "
            f"{largest_difference(resumed[0], first):.2e}"
        )


def test_process_numbers_come_from_the_backends_own_variables(monkeypatch):
    for name in JAX_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert configured_processes("jax") == (1, 0) and configured_processes("tensorflow") == (1, 0)
    monkeypatch.setenv("KERAS_DISTRIBUTION_JOB_ADDRESSES", "10.0.0.1:1234")
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    with pytest.raises(ValueError, match="KERAS_DISTRIBUTION_PROCESS_ID is not set"):
        configured_processes("jax")
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "1")
    assert configured_processes("jax") == (2, 1) and not this_process_writes("jax")
    with pytest.raises(ValueError, match="on TensorFlow set TF_CONFIG"):
        configured_processes("tensorflow")
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "2")
    with pytest.raises(ValueError, match="from 0 to the count - 1"):
        configured_processes("jax")


def test_tf_config_names_the_chief_process_0(monkeypatch):
    cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert tf_config_process() == (3, 2)
    with pytest.raises(ValueError, match="TF_CONFIG is TensorFlow's; on JAX set KERAS_DISTRIBUTION"):
        configured_processes("jax")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "chief", "index": 0}}))
    assert configured_processes("tensorflow") == (3, 0) and this_process_writes("tensorflow")


def test_each_process_takes_its_block_of_every_whole_global_batch():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 32, 32, 3), np.uint8)
    shares = [
        ArrayBatches(images, np.arange(10), 4, shuffle=True, seed=3, process_id=index, processes=2)
        for index in range(2)
    ]
    alone = ArrayBatches(images, np.arange(10), 4, shuffle=True, seed=3)
    assert len(shares[0]) == len(shares[1]) == 2 and len(alone) == 3  # the partial batch of 2 is left out
    for step in range(2):
        together = np.concatenate([share[step][1] for share in shares])
        np.testing.assert_array_equal(together, alone[step][1])


def test_batches_must_split_evenly_over_the_devices():
    class TwoProcesses:
        processes, replicas = 2, 4

    images = np.zeros((100, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="100 training images make no whole global batch of 128"):
        make_batches(images, np.arange(100) % 10, 128, shuffle=True, placement=TwoProcesses)
    check_global_batch(128, 4)
    with pytest.raises(ValueError, match="multiple of 4"):
        check_global_batch(130, 4)
    assert evaluation_batch_size(10_000, 128, TwoProcesses) == 100 and evaluation_batch_size(10_000, 128) == 128
    with pytest.raises(ValueError, match="multiple of 4"):
        evaluation_batch_size(50, 128, TwoProcesses)


def test_the_lost_process_is_named_from_the_engines_message(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    tf_text = (
        "Collective ops is aborted by: Error reported from /job:worker/task:1: The following tasks are unhealthy "
        "(stopped sending heartbeats):\n/job:worker/replica:0/task:2\nThe tasks have crashed."
    )
    assert lost_process(RuntimeError(tf_text), 0, 3) == "process 2"
    assert lost_process(RuntimeError("UNAVAILABLE: Task 1 heartbeat timeout."), 0, 3) == "process 1"
    assert lost_process(RuntimeError("Gloo AllGather failed: Connection closed by peer"), 1, 2) == "process 0"
    assert lost_process(RuntimeError("Gloo AllGather failed"), 0, 3) == "another process"
    workers = ["10.0.0.1:1234", "10.0.0.2:1234", "10.0.0.3:1234"]
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": 0}})
    )
    assert lost_process(RuntimeError("Failed to connect to 10.0.0.3:1234"), 0, 3) == "process 2 (10.0.0.3:1234)"


def test_only_errors_that_say_a_process_went_away_count_as_lost():
    assert looks_lost(ValueError("UNKNOWN: Gloo AllGather failed: Connection closed by peer [127.0.0.1]:5024"))
    assert looks_lost(RuntimeError("wrapped")) is False
    try:
        try:
            raise OSError("Connection reset by peer")
        except OSError as cause:
            raise RuntimeError("the step failed") from cause
    except RuntimeError as error:
        assert looks_lost(error)
    assert not looks_lost(TypeError("Could not locate class 'SpeedrunSGD'"))


def test_the_heartbeat_setting_is_checked(monkeypatch):
    monkeypatch.delenv(HEARTBEAT_VAR, raising=False)
    assert heartbeat_seconds() == 30
    monkeypatch.setenv(HEARTBEAT_VAR, "0")
    with pytest.raises(ValueError, match="whole number of seconds, 1 or more"):
        heartbeat_seconds()


NOTEBOOKS_VAR = (
    "CIFAR_TEST_NOTEBOOKS_ON_TWO_PROCESSES"  # which notebooks: 01 by default (about 30-70 s), or 01,10; none
)
NOTEBOOK_DEADLINE_S = 300  # per notebook, both processes together (measured at smoke on a quiet 2-core machine:
# 01 took 32 s on TensorFlow and 68 s on JAX)


# The session's data and cache, read at import: conftest's autouse fixture hides them from every test.
SESSION_DATA, SESSION_KERAS_HOME = os.environ.get("CIFAR10_DATA"), os.environ.get("KERAS_HOME")


def notebooks_on_two_processes() -> list:
    """The notebooks the two-process notebook test runs: CIFAR_TEST_NOTEBOOKS_ON_TWO_PROCESSES, 01 when unset."""
    chosen = os.environ.get(NOTEBOOKS_VAR, "01").strip()
    return [] if chosen.lower() in ("", "none") else chosen.split(",")


@pytest.mark.skipif(not notebooks_on_two_processes(), reason=f"{NOTEBOOKS_VAR}=none")
@pytest.mark.skipif(not SESSION_DATA, reason="the notebooks need the real images: set CIFAR10_DATA")
def test_notebooks_run_on_two_processes_and_process_0_writes_the_copy(tmp_path):
    notebooks = notebooks_on_two_processes()
    out = tmp_path / "out"
    processes = []
    for index, env in enumerate(cluster_environments(keras.backend.backend(), tmp_path, 2)):
        env = {key: value for key, value in env.items() if key not in ("CIFAR_RESULTS_DIR", "KERAS_HOME")}
        env.update(CIFAR_RETRAIN="1", CIFAR10_DATA=SESSION_DATA)  # train on two processes, even over smoke records
        if SESSION_KERAS_HOME:  # the session's decoded-image cache
            env["KERAS_HOME"] = SESSION_KERAS_HOME
        command = [
            sys.executable,
            "-m",
            "cifar_helpers",
            "run",
            "--budget",
            "smoke",
            "--no-progress",
            "--out",
            str(out),
            *notebooks,
        ]
        log = tmp_path / f"log{index}.txt"
        processes.append(
            Started(
                subprocess.Popen(command, env=env, cwd=PROJECT, stdout=log.open("w"), stderr=subprocess.STDOUT),
                tmp_path / "unused",
                log,
            )
        )
    logs = wait_for(processes, deadline_s=NOTEBOOK_DEADLINE_S * len(notebooks))
    assert all(one.process.returncode == 0 for one in processes), "\n---\n".join(log[-3000:] for log in logs)
    written = sorted(path.name for path in out.glob("*.ipynb"))
    assert written == sorted(
        f"{path.stem}.ipynb" for name in notebooks for path in PROJECT.glob(f"notebooks/{name}_*.ipynb")
    )
    assert logs[1].count("ok -> written by process 0") == len(notebooks)
    for path in out.glob("*.ipynb"):
        outputs = [output for cell in json.loads(path.read_text())["cells"] for output in cell.get("outputs", [])]
        assert not [output for output in outputs if output.get("output_type") == "error"]
        texts = ["".join(output.get("text", "")) for output in outputs]
        assert any("processes: 2 (this is 0)" in text for text in texts)
        assert not [text for text in texts if "reused recorded run" in text]  # every run trained on two processes
