"""Inception v2/v3/v4 building blocks sized for 32x32 inputs, and the nets notebook 08 compares."""

import time

import numpy as np
from keras import layers

from .augment import input_pipeline
from .models import classifier_head, conv_bn, decay_as_l2, model_input

WEIGHT_DECAY = 1e-4


def conv_bn_relu(x, filters, kernel, strides=1):
    """Conv (no bias) -> batch norm -> ReLU: Inception v2's unit (models.conv_bn), used everywhere below."""
    return conv_bn(x, filters, kernel, strides=strides, weight_decay=WEIGHT_DECAY)


def factorised_3x3(x, filters):
    """A 3x3 receptive field from a 1x3 then a 3x1 convolution (v3: a third fewer weights)."""
    return conv_bn_relu(conv_bn_relu(x, filters, (1, 3)), filters, (3, 1))


def inception_block(x, filters):
    """Four parallel branches, concatenated: 1x1 | 1x1, 3x3 | 1x1, 3x3, 3x3 (a factorised 5x5) | pool, 1x1.

    Each 3x3 is itself factorised into 1x3 + 3x1. Output: 4 * filters channels.

    Introduced in notebook 08.
    """
    one = conv_bn_relu(x, filters, 1)
    three = factorised_3x3(conv_bn_relu(x, filters, 1), filters)
    five = factorised_3x3(factorised_3x3(conv_bn_relu(x, filters, 1), filters), filters)
    pool = conv_bn_relu(layers.AveragePooling2D(3, strides=1, padding="same")(x), filters, 1)
    return layers.Concatenate()([one, three, five, pool])


def inception_resnet_block(x, filters, scale=0.2):
    """Inception-ResNet: two branches, a linear 1x1 back to the input width, a scaled residual add."""
    one = conv_bn_relu(x, filters, 1)
    three = factorised_3x3(conv_bn_relu(x, filters, 1), filters)
    mixed = layers.Conv2D(x.shape[-1], 1, padding="same", kernel_regularizer=decay_as_l2(WEIGHT_DECAY))(
        layers.Concatenate()([one, three])
    )
    x = layers.Add()([x, layers.Rescaling(scale)(mixed)])  # v4 paper: scaling residuals keeps training stable
    return layers.ReLU()(x)


def grid_reduction(x, filters, way="parallel"):
    """Halve the grid and widen to `filters` channels, one of three ways (v3, section 5).

    'pool_then_conv': cheap, but squeezes the features through the small grid first (bottleneck).
    'conv_then_pool': no bottleneck, but the conv runs on the large grid (expensive).
    'parallel': a stride-2 conv and a stride-2 pool side by side, concatenated.

    Introduced in notebook 08.
    """
    if way == "pool_then_conv":
        return conv_bn_relu(layers.MaxPooling2D(2)(x), filters, 3)
    if way == "conv_then_pool":
        return layers.MaxPooling2D(2)(conv_bn_relu(x, filters, 3))
    if way == "parallel":
        conv = conv_bn_relu(x, filters - x.shape[-1], 3, strides=2)
        pool = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        return layers.Concatenate()([conv, pool])
    raise ValueError(f"unknown reduction way {way!r}: use pool_then_conv, conv_then_pool or parallel")


def front(preprocessing):
    """Input plus preprocessing layers (default: pad-4 crop, flip, whitening, as for the ResNets)."""
    return model_input(preprocessing, input_pipeline(pad_crop=4, flip=True, whiten=True))


def head(inputs, x, name):
    """Global average pooling and a 10-way softmax (models.classifier_head)."""
    return classifier_head(inputs, x, WEIGHT_DECAY, name)


def reduction_probe_net(way, preprocessing=None):
    """A small net whose only difference is how it goes from 32x32x64 to 16x16x128.

    Introduced in notebook 08.
    """
    inputs, x = front(preprocessing)
    x = conv_bn_relu(x, 64, 3)
    x = grid_reduction(x, 128, way)
    x = conv_bn_relu(x, 128, 3)
    x = grid_reduction(x, 256, "parallel")
    return head(inputs, x, f"reduction_{way}")


def compact_inception(residual=False, widths=(16, 32, 64), blocks=2, preprocessing=None, residual_scale=0.2):
    """A CIFAR-sized Inception net, or Inception-ResNet (residuals times residual_scale), in 3 stages.

    Introduced in notebook 08.
    """
    inputs, x = front(preprocessing)
    x = conv_bn_relu(x, 4 * widths[0], 3)
    for stage, filters in enumerate(widths):
        if stage:
            x = grid_reduction(x, 4 * filters, "parallel")
        for _ in range(blocks):
            x = inception_resnet_block(x, filters, residual_scale) if residual else inception_block(x, filters)
    return head(inputs, x, "inception_resnet" if residual else "inception")


def multiply_adds(model) -> int:
    """Multiply-adds of one forward pass through the model's convolutions (one image).

    Introduced in notebook 08.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kernel_h, kernel_w = layer.kernel_size
            _, out_h, out_w, out_c = layer.output.shape
            total += kernel_h * kernel_w * layer.input.shape[-1] * out_c * out_h * out_w
    return int(total)


def seconds_per_batch(model, batch_size=128, repeats=10) -> float:
    """Median wall time of one compiled forward pass on a random batch (this machine, any backend).

    Introduced in notebook 08.
    """
    images = np.random.default_rng(0).uniform(0, 255, (batch_size, *model.input_shape[1:])).astype("float32")
    model.predict_on_batch(images)  # compile and warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict_on_batch(images)
        times.append(time.perf_counter() - started)
    return float(np.median(times))
