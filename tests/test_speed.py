"""Training speed: arithmetic counted per image, images per second measured, the CPU's peak, augmentation's share."""

import keras
import pytest

from cifar_helpers import cpu
from cifar_helpers.machinery import speed
from cifar_helpers.augment import input_pipeline
from cifar_helpers.machinery.cli import main


def tiny_net(preprocessing=()):
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for layer in preprocessing:
        x = layer(x)
    x = keras.layers.Conv2D(4, 3, padding="same")(x)  # 32 * 32 * 4 outputs x 3 * 3 * 3 multiply-adds = 110,592
    x = keras.layers.Dense(2)(keras.layers.Flatten()(x))  # 4,096 x 2 = 8,192
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))  # 2 x 10 = 20
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def test_multiply_adds_count_convolutions_and_dense_layers():
    assert speed.multiply_adds(tiny_net()) == 110_592 + 8_192 + 20
    assert speed.training_flops_per_image(tiny_net()) == 6 * (110_592 + 8_192 + 20)


def test_cpu_peak_is_cores_times_clock_times_flops_per_cycle():
    assert speed.cpu_peak_flops(cores=2, ghz=2.45, flops_per_cycle=32) == pytest.approx(156.8e9)


def test_training_speed_is_images_per_second_of_a_timed_round():
    images, labels = speed.random_images(64)
    assert speed.training_speed(tiny_net, images, labels, batch_size=16, steps=4, rounds=1) > 0
    with pytest.raises(ValueError, match="images are needed"):
        speed.training_speed(tiny_net, images, labels, batch_size=16, steps=5)


def test_front_layers_are_the_augmentation_and_scaling_layers_before_the_network():
    model = tiny_net(input_pipeline(pad_crop=4, flip=True, whiten=True))
    assert [type(layer).__name__ for layer in speed.front_layers(model)] == [
        "PadAndRandomCrop",
        "RandomFlip",
        "PerImageStandardization",
    ]
    images, _ = speed.random_images(8)
    assert speed.augmentation_seconds(model, images, repeats=2) > 0


def test_speed_table_and_an_unknown_network(capsys):
    row = {"network": "tiny", "GFLOP per image": 0.25, "images/s": 180.4, "share of peak": 0.29}
    assert speed.speed_markdown([row]).splitlines()[-1] == "| tiny | 0.250 | 180 | 29% |"
    with pytest.raises(SystemExit, match="no network matches"):
        main(["speed", "no-such-net"])


def test_training_speed_feeds_one_hot_labels_to_a_label_smoothing_model():
    from cifar_helpers.models import compile_for_classification
    from cifar_helpers.machinery.speed import random_images, training_speed

    images, labels = random_images(16)

    def build():
        model = keras.Sequential(
            [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
        )
        return compile_for_classification(model, keras.optimizers.SGD(), label_smoothing=0.1)

    assert training_speed(build, images, labels, batch_size=8, steps=2, rounds=1) > 0


ZEN4 = "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512_bf16 fma\n"
ZEN3 = "processor\t: 0\nmodel name\t: AMD EPYC 7R13\nflags\t\t: fpu avx2 fma\n"


def test_bf16_is_detected_from_the_cpu_flags_both_ways():
    assert cpu.cpu_bf16_flags(ZEN4) == ["avx512_bf16"] and cpu.cpu_bf16_flags(ZEN3) == []
    assert cpu.cpu_bf16_flags(ZEN3.replace("fma", "fma amx_bf16")) == ["amx_bf16"]
    assert cpu.cpu_precision(ZEN4) == ("mixed_bfloat16", "the CPU has avx512_bf16")
    assert cpu.cpu_precision(ZEN3)[0] == "float32" and "emulated" in cpu.cpu_precision(ZEN3)[1]
    assert cpu.cpu_model(ZEN4) == "AMD EPYC 9R14" and cpu.cpu_precision("")[0] == "float32"  # no /proc: float32


def test_the_speedrun_table_has_bf16_rows_only_on_a_cpu_with_bf16(monkeypatch):
    timed = []
    monkeypatch.setattr(speed, "speedrun_speed", lambda widths, policy, *args, **options: timed.append(policy) or 100.0)
    rows = speed.speedrun_speed_rows([(8, 16, 16)], batch_size=16, steps=1, cpuinfo=ZEN3)
    assert [row["precision"] for row in rows] == ["float32"]
    rows = speed.speedrun_speed_rows([(8, 16, 16)], batch_size=16, steps=1, cpuinfo=ZEN4)
    assert [row["precision"] for row in rows] == ["float32", "mixed_bfloat16"] and rows[0]["widths"] == "8/16/16"


def test_speedrun_speed_measures_under_the_policy_and_restores_the_previous_one():
    images, labels = speed.random_images(32)
    assert speed.speedrun_speed((4, 8, 8), "mixed_bfloat16", images, labels, batch_size=16, steps=1, rounds=1) > 0
    assert keras.mixed_precision.global_policy().name == "float32"
