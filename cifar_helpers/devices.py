"""Find the accelerators, pick a tf.distribute strategy, and say what was chosen."""

import json
import os

import tensorflow as tf
import keras


def enable_memory_growth(gpus) -> None:
    """Let TensorFlow take GPU memory as needed instead of all at once."""
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: the setting can no longer change
            pass


def tf_config_workers() -> int:
    """Number of workers named in $TF_CONFIG (0 when it is unset)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}); see the README's multi-worker section.") from error
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def choose_strategy(gpus, devices=None):
    """MultiWorkerMirrored under TF_CONFIG; Mirrored over several devices; else the default."""
    if tf_config_workers():
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices and len(devices) > 1:
        return tf.distribute.MirroredStrategy(devices=list(devices))
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def setup_devices(mixed_precision: bool = False, devices=None, verbose: bool = True):
    """Configure GPUs, return a strategy, and print one line saying what it chose."""
    gpus = tf.config.list_physical_devices("GPU")
    enable_memory_growth(gpus)
    strategy = choose_strategy(gpus, devices)
    use_mixed = bool(mixed_precision and gpus)
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mixed else "float32")
    line = describe(gpus, strategy, use_mixed, mixed_precision)
    if verbose:
        print(line)
    strategy.device_line = line
    return strategy


def describe(gpus, strategy, use_mixed: bool, asked_mixed: bool) -> str:
    """One line: the hardware, the strategy and the precision."""
    if gpus:
        names = sorted({tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus})
        hardware = f"{len(gpus)} GPU(s): {', '.join(names)}"
    else:
        hardware = f"CPU only ({os.cpu_count()} cores)"
    replicas = strategy.num_replicas_in_sync
    name = type(strategy).__name__.lstrip("_").replace("DefaultDistributionStrategy", "default (one device)")
    precision = "mixed_float16" if use_mixed else "float32"
    if asked_mixed and not use_mixed:
        precision += " (mixed precision needs a GPU)"
    return f"Devices: {hardware}; strategy: {name} x{replicas}; precision: {precision}"
