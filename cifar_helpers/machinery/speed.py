"""How fast a network trains here: images per second, the share of the CPU's arithmetic peak, and what XLA changes."""

import os
import time

import keras
import numpy as np
from keras import layers

from ..cpu import cpu_bf16_flags
from ..feed import make_batches
from ..inception import multiply_adds as conv_multiply_adds
from ..training import wants_one_hot


def multiply_adds(model) -> int:
    """Multiply-adds of one forward pass through the model's convolutions and dense layers (one image)."""
    dense = sum(layer.input.shape[-1] * layer.units for layer in model.layers if isinstance(layer, layers.Dense))
    return conv_multiply_adds(model) + int(dense)


def training_flops_per_image(model) -> int:
    """Floating-point operations to train on one image: forward + backward ~ 3 forward passes of 2 per multiply-add."""
    return 3 * 2 * multiply_adds(model)


def cpu_peak_flops(cores=None, ghz: float = 2.45, flops_per_cycle: int = 32) -> float:
    """The CPU's float32 arithmetic limit in FLOP/s: cores x clock x FLOPs per cycle.

    32 per cycle is two 256-bit fused multiply-add units (AVX2 + FMA: 2 units x 8 lanes x 2 operations),
    as on the AMD EPYC (Zen 3) cores this project's committed runs used; the clock is its nominal 2.45 GHz.
    """
    return (cores or os.cpu_count()) * ghz * 1e9 * flops_per_cycle


class StepTimer(keras.callbacks.Callback):
    """Wall time of each epoch of a fit."""

    def __init__(self):
        super().__init__()
        self.seconds, self.started = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def training_speed(
    build_model, images, labels, *, batch_size: int = 128, steps: int = 20, jit_compile="auto", rounds: int = 2
) -> float:
    """Training images per second of a freshly built model: `rounds` timed passes of `steps` batches after one warm-up.

    jit_compile=True compiles each training step with XLA; "auto" is Keras' default (off on CPU-only TensorFlow,
    always on with JAX).
    Returns the best round's speed (the least disturbed by anything else on the machine).
    """
    count = batch_size * steps
    if len(images) < count:
        raise ValueError(f"{count} images are needed for {steps} steps of {batch_size}; got {len(images)}")
    keras.utils.set_random_seed(0)
    model = build_model()
    if jit_compile != "auto":
        model.jit_compile = jit_compile
    timer = StepTimer()
    num_classes = (
        model.output_shape[-1] if wants_one_hot(model) else None
    )  # a label-smoothing loss takes one-hot labels
    batches = make_batches(images[:count], labels[:count], batch_size, shuffle=True, num_classes=num_classes)
    model.fit(batches, epochs=rounds + 1, verbose=0, shuffle=False, callbacks=[timer])  # the batches reshuffle
    return count / min(timer.seconds[1:])


AUGMENTATION_LAYERS = ("RandomCropPerImage", "PadAndRandomCrop", "RandomFlip", "PerImageStandardization", "Rescaling")


def front_layers(model) -> list:
    """The augmentation and scaling layers at the front of a model (what could run in the input pipeline instead)."""
    front = []
    for layer in model.layers[1:]:
        if type(layer).__name__ not in AUGMENTATION_LAYERS:
            break
        front.append(layer)
    return front


def augmentation_seconds(model, images, repeats: int = 5) -> float:
    """Median seconds of the model's front layers (training mode) on one batch: the most moving them out could save."""
    front = keras.Sequential(front_layers(model))
    batch = keras.ops.convert_to_tensor(images.astype("float32"))
    front(batch, training=True)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        keras.ops.convert_to_numpy(front(batch, training=True))
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def speed_row(name: str, build_model, images, labels, **options) -> dict:
    """One network's training speed as Keras compiles it by default and with XLA, and the CPU peak's share of each."""
    model = build_model()
    flops = training_flops_per_image(model)
    batch_size = options.get("batch_size", 128)
    graph = training_speed(build_model, images, labels, **options)  # Keras' default
    xla = training_speed(build_model, images, labels, jit_compile=True, **options)
    augmentation = augmentation_seconds(model, images[:batch_size]) * graph / batch_size
    peak = cpu_peak_flops()
    return {
        "network": name,
        "GFLOP per image": flops / 1e9,
        "images/s": graph,
        "share of peak": graph * flops / peak,
        "images/s with XLA": xla,
        "XLA / default": xla / graph,
        "share of peak with XLA": xla * flops / peak,
        "augmentation's share of a step": augmentation,
    }


def speed_markdown(rows) -> str:
    """The rows of speed_row as one markdown table."""
    headers = list(rows[0])
    formats = {
        "GFLOP per image": "{:.3f}",
        "images/s": "{:.0f}",
        "images/s with XLA": "{:.0f}",
        "XLA / default": "{:.2f}",
        "share of peak": "{:.0%}",
        "share of peak with XLA": "{:.0%}",
        "augmentation's share of a step": "{:.0%}",
    }
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(formats.get(k, "{}").format(v) for k, v in row.items()) + " |")
    return "\n".join(lines)


def random_images(count: int, seed: int = 0):
    """Random uint8 images and labels of CIFAR-10's shape: speed does not depend on the pixels."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, 32, 32, 3), dtype="uint8"), rng.integers(0, 10, count).astype("int64")


def benchmark_networks() -> dict:
    """{name: build function} for the networks the notebooks train, compiled as the notebooks compile them."""
    from .. import inception, models, schedules
    from ..augment import input_pipeline

    adam = lambda: keras.optimizers.Adam(1e-3)  # noqa: E731
    sgd = lambda: schedules.sgd_warmup_cosine(10, 352)  # noqa: E731
    article = dict(weight_decay=1e-4, dropout=0.5, batch_norm=True, lrn=True)
    return {
        "article CNN (01)": lambda: models.compile_for_classification(models.article_cnn(), adam()),
        "article CNN, 24x24 crops, all of 03": lambda: models.compile_for_classification(
            models.article_cnn(input_pipeline(crop=24, flip=True, whiten=True), **article), adam()
        ),
        "plain-20 (05)": lambda: models.compile_for_classification(models.cifar_resnet(20, residual=False), sgd()),
        "ResNet-20 (06)": lambda: models.compile_for_classification(models.cifar_resnet(20), sgd()),
        "ResNet-56 (06)": lambda: models.compile_for_classification(models.cifar_resnet(56), sgd()),
        "compact Inception (08)": lambda: models.compile_for_classification(inception.compact_inception(), sgd()),
    }


def speedrun_speed(widths, policy: str, images, labels, *, batch_size: int = 1024, steps: int = 5, rounds: int = 2):
    """Training images per second of notebook 10's speedrun net at `widths` under the dtype `policy`."""
    from ..speedrun import speedrun_model

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        return training_speed(
            lambda: speedrun_model(images, 10, batch_size, widths),
            images,
            labels,
            batch_size=batch_size,
            steps=steps,
            rounds=rounds,
        )
    finally:
        keras.mixed_precision.set_global_policy(previous)


def speedrun_speed_rows(widths_list, *, batch_size: int = 1024, steps: int = 5, cpuinfo: str = None) -> list:
    """The speedrun net's images/s per width, float32 and (where the CPU has bf16 instructions) mixed_bfloat16."""
    policies = ["float32"] + (["mixed_bfloat16"] if cpu_bf16_flags(cpuinfo) else [])  # emulated bf16: not worth timing
    images, labels = random_images(batch_size * steps)
    rows = []
    for widths in widths_list:
        for policy in policies:
            rows.append(
                {
                    "widths": "/".join(map(str, widths)),
                    "precision": policy,
                    "images/s": speedrun_speed(widths, policy, images, labels, batch_size=batch_size, steps=steps),
                }
            )
            print(f"speedrun {rows[-1]['widths']}, {policy}: {rows[-1]['images/s']:.0f} images/s", flush=True)
    return rows
