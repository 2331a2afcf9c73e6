"""Device placement per backend: the default path here, and data parallelism over two (logical) CPUs."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import pytest

from cifar_helpers.devices import choose_precision, precision_tag, setup_devices, tf_config_workers


def test_cpu_only_machine_gets_one_replica_and_says_so(capsys):
    strategy = setup_devices(mixed_precision=True)
    line = capsys.readouterr().out.strip()
    assert strategy.num_replicas_in_sync == 1
    assert line.startswith(f"Backend: {keras.backend.backend()}; devices: CPU only")
    assert "precision: float32 (mixed precision needs a GPU)" in line and strategy.device_line == line


@pytest.mark.parametrize("flags, policy", [("avx2 avx512_bf16", "mixed_bfloat16"), ("avx2", "float32")])
def test_cpu_bf16_follows_the_cpu_flags_and_the_line_says_why(flags, policy, capsys, monkeypatch):
    from cifar_helpers import cpu

    monkeypatch.setattr(
        cpu, "cpuinfo_text", lambda path="/proc/cpuinfo": f"model name\t: test CPU\nflags\t\t: {flags}\n"
    )
    try:
        placement = setup_devices(cpu_bf16=True)
        assert keras.mixed_precision.global_policy().name == policy and placement.precision == policy
    finally:
        keras.mixed_precision.set_global_policy("float32")
    line = capsys.readouterr().out.strip()
    why = "the CPU has avx512_bf16" if policy == "mixed_bfloat16" else "the CPU lacks avx512_bf16 and amx_bf16"
    assert f"precision: {policy} ({why}" in line
    assert precision_tag(placement.device_line) == (
        "_bf16" if policy == "mixed_bfloat16" else ""
    )  # notebook 10's run names


def test_mixed_precision_is_bfloat16_where_the_gpu_has_it():
    assert choose_precision(["NVIDIA H100"], [9.0], asked=True) == "mixed_bfloat16"
    assert choose_precision(["Tesla T4"], [7.5], asked=True) == "mixed_float16"
    assert choose_precision([], [], asked=True) == "float32"
    assert choose_precision(["NVIDIA H100"], [9.0], asked=False) == "float32"


def test_tf_config_counts_workers(monkeypatch):
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}})
    )
    assert tf_config_workers() == 2
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        tf_config_workers()


def test_mirrored_strategy_trains_on_two_logical_cpus():
    pytest.importorskip("tensorflow")
    script = textwrap.dedent("""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, numpy as np
        from cifar_helpers.devices import setup_devices
        strategy = setup_devices(devices=["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
        with strategy.scope():
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
            model.compile("sgd", "sparse_categorical_crossentropy")
        x = np.random.rand(64, 4).astype("float32"); y = (x[:, 0] > 0.5).astype("int64")
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        print("LOSS", history.history["loss"][-1])
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MirroredStrategy x2" in done.stdout and "LOSS" in done.stdout


def test_jax_data_parallel_trains_on_two_host_devices():
    pytest.importorskip("jax")
    script = textwrap.dedent("""
        import keras, numpy as np
        from cifar_helpers.devices import setup_devices
        placement = setup_devices(devices=["cpu:0", "cpu:1"])
        assert placement.num_replicas_in_sync == 2, placement.num_replicas_in_sync
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        x = np.random.rand(64, 4).astype("float32"); y = (x[:, 0] > 0.5).astype("int64")
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        print("LOSS", history.history["loss"][-1])
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "DataParallel x2" in done.stdout and "LOSS" in done.stdout


def test_only_a_cpu_training_in_bf16_tags_its_run_names():
    cpu = "Backend: tensorflow; devices: CPU only (2 cores); strategy: default (one device) x1; precision: "
    assert precision_tag(cpu + "mixed_bfloat16 (the CPU has avx512_bf16)") == "_bf16"
    assert precision_tag(cpu + "float32 (the CPU lacks avx512_bf16 and amx_bf16 (bf16 would be emulated))") == ""
    gpu = "Backend: jax; devices: 1 GPU(s): NVIDIA H200; strategy: default (one device) x1; precision: mixed_bfloat16"
    assert precision_tag(gpu) == ""  # full: a GPU's records have a budget of their own


def test_a_row_without_cpu_bf16_trains_in_float32_after_a_bf16_lesson(monkeypatch):
    import keras

    from cifar_helpers import budgets, devices

    line = "Backend: tensorflow; devices: CPU only (2 cores); strategy: default (one device) x1"
    line += "; precision: mixed_bfloat16 (the CPU has avx512_bf16)"
    placement = devices.Placement("tensorflow", ["cpu"], 1, "default (one device)", "mixed_bfloat16", line)
    monkeypatch.setattr(devices, "LAST_PLACEMENT", placement)
    table = {name: {"epochs": 1} for name in budgets.BUDGETS} | {"overnight": {"epochs": 1, "cpu_bf16": True}}
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        budgets.budget_settings(table, "overnight")  # the lesson's row asks for bf16: unchanged
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16" and placement.device_line == line
        budgets.budget_settings(table, "quick")  # the exercise's row: float32, and its records say so
        assert keras.mixed_precision.global_policy().name == "float32"
        assert placement.precision == "float32" and placement.device_line.endswith("x1; precision: float32")
        assert devices.precision_tag(placement.device_line) == ""
    finally:
        keras.mixed_precision.set_global_policy("float32")
