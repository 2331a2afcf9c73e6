"""Find the accelerators, spread training over them the backend's way, and say what was chosen."""

import contextlib
import os
from dataclasses import dataclass

import keras

from .cpu import cpu_precision
from .settings import configured_processes, heartbeat_seconds, jax_process_settings, tf_config_workers


@dataclass
class Placement:
    """Where training runs: the backend's devices, how work is spread, the precision, and one line saying so."""

    backend: str
    devices: list
    replicas: int
    strategy_name: str
    precision: str
    device_line: str
    strategy: object = None  # a tf.distribute strategy on TensorFlow; on JAX the DataParallel of several processes
    processes: int = 1  # processes training together (one per machine, or several on one)
    process_id: int = 0  # this one's number; process 0 writes the records, weights and outputs

    @property
    def num_replicas_in_sync(self) -> int:
        """How many devices share each batch, over every process (tf.distribute's name for it)."""
        return self.replicas

    @property
    def writes_files(self) -> bool:
        """True on process 0, the one that writes records, weights and backups."""
        return self.process_id == 0

    def scope(self):
        """Build and train models inside this (the tf.distribute strategy's or the several-process DataParallel's)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    @property
    def several_jax_processes(self) -> bool:
        """True for a JAX run over several processes, whose trained model is handed back as a copy per process."""
        return self.backend == "jax" and self.processes > 1


def choose_precision(gpu_names, compute_capabilities, asked: bool) -> str:
    """mixed_bfloat16 on GPUs that have it (compute capability 8.0+), mixed_float16 on older ones, else float32."""
    if not asked or not gpu_names:
        return "float32"
    return "mixed_bfloat16" if all(cc >= 8.0 for cc in compute_capabilities) else "mixed_float16"


def tensorflow_placement(devices=None):
    """tf.distribute: MultiWorkerMirrored under TF_CONFIG, Mirrored over several GPUs, else the default."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: the setting can no longer change
            pass
    if tf_config_workers():
        from .tf_multiworker import multi_worker_strategy  # keras#20585 mended there

        strategy = multi_worker_strategy()
    elif devices and len(devices) > 1:
        strategy = tf.distribute.MirroredStrategy(devices=list(devices))
    elif len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    details = [tf.config.experimental.get_device_details(g) for g in gpus]
    names = [d.get("device_name", "GPU") for d in details]
    capabilities = [float(".".join(map(str, d.get("compute_capability", (0, 0))))) for d in details]
    name = type(strategy).__name__.lstrip("_").replace("DefaultDistributionStrategy", "default (one device)")
    return strategy, name, strategy.num_replicas_in_sync, names, capabilities


def start_jax_processes():
    """keras.distribution.initialize from KERAS_DISTRIBUTION_* (once per process); True when several processes run."""
    import jax
    from jax.experimental import multihost_utils

    if jax_process_settings() is None:
        if jax.process_count() > 1:
            raise ValueError(
                "jax.distributed was started without KERAS_DISTRIBUTION_*: set those three variables "
                'instead (setup_devices starts the processes), see "More than one device", docs/multi-device.md.'
            )
        return False
    if not jax.distributed.is_initialized():  # keras.distribution.initialize's own start, with a bounded heartbeat
        addresses, count, index = jax_process_settings()
        jax.distributed.initialize(
            coordinator_address=addresses.split(",")[0],
            num_processes=count,
            process_id=index,
            heartbeat_timeout_seconds=heartbeat_seconds(),
            shutdown_timeout_seconds=heartbeat_seconds(),
        )
        # XLA's Gloo gives the processes 30 s to meet at their first collective, which sets up its context: meet
        # here, where they start together, so that later ones may wait longer (a cell can take longer on one).
        multihost_utils.sync_global_devices("setup_devices")
    return jax.process_count() > 1


def jax_placement(devices=None):
    """keras.distribution.DataParallel over every GPU when there are several, else one device.

    Under KERAS_DISTRIBUTION_* (several processes), DataParallel spans every process's devices, and each
    process feeds its own share of the global batch (auto_shard_dataset=False: feed.make_batches shards).
    It is then returned, not set globally: train_and_record enters it (Placement.scope) to build, fit and
    test, and hands back a copy of the model on this process alone, whose predict needs no other process.
    """
    import jax

    several_processes = start_jax_processes()
    if several_processes and devices:
        raise ValueError(
            "devices= names this machine's devices; with several processes (KERAS_DISTRIBUTION_*) "
            "setup_devices uses every process's devices: leave devices out."
        )
    gpus = [d for d in jax.local_devices() if d.platform == "gpu"]
    if several_processes:
        chosen = keras.distribution.list_devices()  # every process's GPUs (or CPUs where there are none)
    else:
        chosen = list(devices) if devices else [f"gpu:{d.id}" for d in gpus]
    distribution, name = None, "default (one device)"
    if len(chosen) > 1:
        distribution = keras.distribution.DataParallel(devices=chosen, auto_shard_dataset=not several_processes)
        name = "DataParallel"
    if distribution and not several_processes:
        keras.distribution.set_distribution(distribution)
        distribution = None  # one process: global, so every model, fit and predict spreads over the GPUs
    capabilities = [float(getattr(d, "compute_capability", 0) or 0) for d in gpus]
    return distribution, name, max(len(chosen), 1), [d.device_kind for d in gpus], capabilities


def precision_tag(device_line: str) -> str:
    """From a device line: "_bf16" for runs a CPU trains in mixed_bfloat16 (beside float32's records), else "".

    Introduced in notebook 10.
    """
    return "_bf16" if "devices: CPU only" in device_line and "precision: mixed_bfloat16" in device_line else ""


def setup_devices(
    mixed_precision: bool = False, devices=None, verbose: bool = True, cpu_bf16: bool = False
) -> Placement:
    """Find the GPUs, spread training over them, set the precision, and print one line saying what it chose.

    mixed_precision=True asks for mixed_bfloat16 (mixed_float16 on GPUs older than Ampere); CPUs stay float32,
    unless cpu_bf16=True: then a CPU with bf16 instructions (avx512_bf16, amx_bf16) trains in mixed_bfloat16.

    Introduced in notebook 00.
    """
    backend = keras.backend.backend()
    processes, process_id = configured_processes(backend)
    if backend == "tensorflow":
        strategy, name, replicas, gpu_names, capabilities = tensorflow_placement(devices)
    elif backend == "jax":
        strategy, name, replicas, gpu_names, capabilities = jax_placement(devices)
    else:
        raise ValueError(f"setup_devices supports the tensorflow and jax backends, not {backend!r}.")
    precision = choose_precision(gpu_names, capabilities, mixed_precision)
    note = " (mixed precision needs a GPU)" if mixed_precision and not gpu_names else ""
    if cpu_bf16 and not gpu_names:
        precision, why = cpu_precision()
        note = f" ({why})"
    keras.mixed_precision.set_global_policy(precision)
    hardware = (
        f"{len(gpu_names)} GPU(s): {', '.join(sorted(set(gpu_names)))}"
        if gpu_names
        else f"CPU only ({os.cpu_count()} cores)"
    )
    line = f"Backend: {backend}; devices: {hardware}; strategy: {name} x{replicas}; precision: {precision}{note}"
    line += f"; processes: {processes} (this is {process_id})" if processes > 1 else ""
    if verbose:
        print(line)
    global LAST_PLACEMENT
    LAST_PLACEMENT = Placement(
        backend, gpu_names or ["cpu"], replicas, name, precision, line, strategy, processes, process_id
    )
    return LAST_PLACEMENT


LAST_PLACEMENT = None  # the placement setup_devices returned last (cpu_float32_again changes it)


def cpu_float32_again() -> None:
    """Back to float32 where setup_devices chose mixed_bfloat16 for a CPU (its placement's line says so too).

    budget_settings calls it for a settings row that does not ask for cpu_bf16: an exercise at quick, in a notebook
    whose overnight lesson trains in bf16, trains (and reuses records) in float32, as a laptop's quick run does.
    """
    placement = LAST_PLACEMENT
    if placement is None or placement.precision != "mixed_bfloat16" or placement.devices != ["cpu"]:
        return
    keras.mixed_precision.set_global_policy("float32")
    head, _, tail = placement.device_line.partition("; precision: ")
    rest = tail.partition("; processes: ")
    placement.precision = "float32"
    placement.device_line = f"{head}; precision: float32" + (f"; processes: {rest[2]}" if rest[1] else "")
