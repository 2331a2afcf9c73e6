"""Inception blocks: factorisation savings, reductions' shapes and costs, calibration error."""

import keras
import numpy as np
import pytest

from cifar_helpers import inception
from cifar_helpers.diagnose import expected_calibration_error, top_class


def single(*convs, channels=64):
    inputs = keras.Input((32, 32, channels))
    x = inputs
    for kernel in convs:
        x = keras.layers.Conv2D(channels, kernel, padding="same", use_bias=False)(x)
    return keras.Model(inputs, x)


def test_two_3x3_save_28_percent_of_a_5x5_and_1x3_3x1_save_a_third_of_a_3x3():
    five, two_threes = single(5), single(3, 3)
    assert 1 - two_threes.count_params() / five.count_params() == pytest.approx(0.28)
    assert 1 - inception.multiply_adds(two_threes) / inception.multiply_adds(five) == pytest.approx(0.28)
    assert 1 - single((1, 3), (3, 1)).count_params() / single(3).count_params() == pytest.approx(1 / 3)
    assert inception.multiply_adds(single(3)) == 9 * 64 * 64 * 32 * 32


@pytest.mark.parametrize("way", ["pool_then_conv", "conv_then_pool", "parallel"])
def test_every_reduction_goes_from_32x32x64_to_16x16x128(way):
    inputs = keras.Input((32, 32, 64))
    assert tuple(inception.grid_reduction(inputs, 128, way).shape) == (None, 16, 16, 128)


def test_reductions_cost_what_the_paper_says():
    def cost(way):
        inputs = keras.Input((32, 32, 64))
        return inception.multiply_adds(keras.Model(inputs, inception.grid_reduction(inputs, 128, way)))

    assert cost("conv_then_pool") == 4 * cost("pool_then_conv")  # same conv on a 4x larger grid
    assert cost("parallel") < cost("pool_then_conv")


def test_unknown_reduction_is_named():
    with pytest.raises(ValueError, match="unknown reduction way 'strided'"):
        inception.grid_reduction(keras.Input((32, 32, 64)), 128, "strided")


def test_compact_nets_build_and_residual_variant_adds_shortcuts():
    plain, residual = inception.compact_inception(), inception.compact_inception(residual=True)
    assert plain.output.shape == (None, 10) and residual.output.shape == (None, 10)
    assert any(isinstance(layer, keras.layers.Add) for layer in residual.layers)
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)


def residual_scales(model):
    """The factor of each Rescaling layer: in these nets, only the scaled residuals."""
    return [layer.scale for layer in model.layers if isinstance(layer, keras.layers.Rescaling)]


def test_residual_scale_reaches_every_inception_resnet_block():
    assert residual_scales(inception.compact_inception(residual=True)) == [0.2] * 6
    assert residual_scales(inception.compact_inception(residual=True, residual_scale=1.0)) == [1.0] * 6


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    calibrated = np.tile([[0.4, 0.6]], (10, 1))  # always "class 1, 60% sure": right 6 times in 10
    assert expected_calibration_error(top_class(calibrated), labels) == pytest.approx(0.0)
    overconfident = np.tile([[0.01, 0.99]], (10, 1))
    assert expected_calibration_error(top_class(overconfident), labels) == pytest.approx(0.39)
