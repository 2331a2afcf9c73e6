"""Networks reused across notebooks, each built by one function with switches for the lessons."""

import keras
import numpy as np
from keras import layers, ops

from .augment import input_pipeline

# Initialisation, step by step in the original code (persistforever/cifar10-tensorflow, 2017 history):
# - step 1 (commit 08b4a47): every kernel ~ N(0, 0.01), biases 0; the article's text says N(0, 0.001), which with
#   Keras' batch-mean loss does not train at all (notebook 01 shows it);
# - steps 2-4 (from commit d3fb60c): truncated normals, conv sigma = sqrt(2 / (H * W * C)) over the layer's whole
#   input (24x24x3, 12x12x64, 6x6x128: 0.034, 0.0147, 0.0208), dense sigma = sqrt(2 / fan_in) (0.0295, 0.0442).
# The collection keeps step 1's N(0, 0.01) for every step, so that steps 1-4 differ only in the change each one
# teaches; with batch norm (step 3 on) only the last layer's scale matters (each kernel before a BN is rescaled).
ARTICLE_INIT_STDDEV = 0.01

# Batch norm's moving averages, used at inference: new = momentum * old + (1 - momentum) * batch. Keras' default
# 0.99 remembers about 100 steps, so a net trained for a few hundred steps is tested with the statistics of
# weights it has left behind (at 0.99 the quick runs of 05 validated near chance for their first epochs, and
# three seeds of one run spread over several points of test accuracy while their training losses agreed).
# 0.9 is PyTorch's default (its momentum=0.1) and forgets in about 10 steps. Every network here uses it
# (notebook 07's asker's net keeps 0.99 on purpose: it is the bug that notebook finds).
BN_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="cifar_helpers")
class LocalResponseNormalization(layers.Layer):
    """AlexNet's LRN across channels, as tf.nn.local_response_normalization computes it; no weights.

    out = x / (bias + alpha * sum of x^2 over the 2 * depth_radius + 1 nearest channels) ** beta

    The window sums are one matrix product with a 0/1 band matrix: on a CPU about six times faster
    than adding 15 shifted copies of the activations. It computes in float32 under mixed precision too:
    in bfloat16, 1 + 0.001 * sum(x^2) (about 1.01-1.05) would be rounded to steps of 0.008.

    Introduced in notebook 03.
    """

    def __init__(self, depth_radius=7, bias=1.0, alpha=0.001, beta=0.75, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs):
        channel = np.arange(inputs.shape[-1])
        band = (np.abs(channel[:, None] - channel[None, :]) <= self.depth_radius).astype("float32")
        window_sum = ops.matmul(ops.square(inputs), ops.convert_to_tensor(band, dtype=inputs.dtype))
        return inputs / ops.power(self.bias + self.alpha * window_sum, self.beta)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_radius": self.depth_radius,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
        }


def model_input(preprocessing, default):
    """The 32x32x3 input and the preprocessing layers after it (`default` when none are given)."""
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for step in preprocessing if preprocessing is not None else default:
        x = step(x)
    return inputs, x


def article_cnn(
    preprocessing=None,
    weight_decay=0.0,
    dropout=0.0,
    batch_norm=False,
    lrn=False,
    init_stddev=ARTICLE_INIT_STDDEV,
    name="article_cnn",
):
    """The article's CNN: 3x (conv3x3 64/128/256 + max-pool 2), FC 1024, FC 10 softmax.

    preprocessing: layers applied first (default: pixels / 255), e.g. ch.input_pipeline(...).
    weight_decay: L2 factor on every kernel.  dropout: rate on the FC-1024 output.
    batch_norm: BN (momentum BN_MOMENTUM) between each conv/FC and its ReLU.  lrn: LRN after each pool (radius 7).
    init_stddev: weights ~ N(0, init_stddev), biases 0, as in the article's code.

    Introduced in notebook 01.
    """
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
    initializer = keras.initializers.RandomNormal(mean=0.0, stddev=init_stddev)
    dense_options = dict(kernel_initializer=initializer, kernel_regularizer=regularizer)
    conv_options = dict(kernel_size=3, padding="same", **dense_options)

    inputs, x = model_input(preprocessing, input_pipeline())
    for filters in (64, 128, 256):
        x = layers.Conv2D(filters, use_bias=not batch_norm, **conv_options)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x) if batch_norm else x
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
        x = LocalResponseNormalization()(x) if lrn else x
    x = layers.Flatten()(x)
    x = layers.Dense(1024, use_bias=not batch_norm, **dense_options)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x) if batch_norm else x
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x) if dropout else x
    outputs = layers.Dense(10, activation="softmax", dtype="float32", **dense_options)(x)
    return keras.Model(inputs, outputs, name=name)


def same_network(model, reference, images) -> bool:
    """True when `model` has `reference`'s layers and weight shapes,
    and with its weights computes the same test-time outputs.

    Introduced in notebook 01.
    """
    kinds = [type(layer).__name__ for layer in model.layers], [type(layer).__name__ for layer in reference.layers]
    shapes = [w.shape for w in model.get_weights()], [w.shape for w in reference.get_weights()]
    if kinds[0] != kinds[1] or shapes[0] != shapes[1]:
        return False
    reference.set_weights(model.get_weights())
    images = ops.convert_to_tensor(np.asarray(images, dtype="float32"))
    ours, theirs = (ops.convert_to_numpy(net(images, training=False)) for net in (model, reference))
    return bool(np.allclose(ours, theirs, atol=1e-6))


def compile_for_classification(model, optimizer, label_smoothing=0.0):
    """Compile with cross-entropy and accuracy; one-hot losses when smoothing is asked for.

    Keras' sparse cross-entropy has no label_smoothing argument: smoothing needs one-hot
    targets. train_and_record sees the categorical loss and feeds one-hot labels itself.

    Introduced in notebook 02.
    """
    if label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


@keras.saving.register_keras_serializable(package="cifar_helpers")
class ZeroPadShortcut(layers.Layer):
    """He et al.'s option-A shortcut: take every other pixel and zero-pad the new channels.

    Introduced in notebook 06.
    """

    def __init__(self, out_channels: int, **kwargs):
        super().__init__(**kwargs)
        self.out_channels = out_channels

    def call(self, inputs):
        subsampled = inputs[:, ::2, ::2, :]
        extra = self.out_channels - inputs.shape[-1]
        return keras.ops.pad(subsampled, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])

    def compute_output_shape(self, input_shape):
        half = lambda size: None if size is None else (size + 1) // 2  # noqa: E731
        return (input_shape[0], half(input_shape[1]), half(input_shape[2]), self.out_channels)

    def get_config(self):
        return {**super().get_config(), "out_channels": self.out_channels}


def decay_as_l2(weight_decay):
    """SGD-style weight decay (gradient += wd * w) as a Keras L2 penalty (adds l2 * sum w^2): l2 = wd / 2."""
    return keras.regularizers.L2(weight_decay / 2)


def conv_bn(x, filters, kernel=3, strides=1, weight_decay=1e-4, relu=True, gamma="ones", momentum=BN_MOMENTUM):
    """Conv (He init, no bias, weight decay) -> batch norm (gamma initialised to `gamma`) -> optional ReLU.

    The unit of the ResNets here and of the Inception nets in inception.py.

    Introduced in notebook 05.
    """
    x = layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=decay_as_l2(weight_decay),
    )(x)
    x = layers.BatchNormalization(momentum=momentum, gamma_initializer=gamma)(x)
    return layers.ReLU()(x) if relu else x


def classifier_head(inputs, x, weight_decay, name):
    """Global average pooling and a 10-way softmax (float32 under mixed precision): the model from `inputs`."""
    outputs = layers.Dense(10, activation="softmax", dtype="float32", kernel_regularizer=decay_as_l2(weight_decay))(
        layers.GlobalAveragePooling2D()(x)
    )
    return keras.Model(inputs, outputs, name=name)


def residual_block(x, filters, strides, weight_decay=1e-4, zero_init=False):
    """y = ReLU(F(x) + shortcut(x)), F being two 3x3 conv-BN layers; option-A shortcut where the shape changes.

    zero_init: F's last batch-norm scale starts at 0, so the block starts as the identity (Goyal et al. 2017).
    """
    y = conv_bn(x, filters, strides=strides, weight_decay=weight_decay)
    y = conv_bn(y, filters, weight_decay=weight_decay, relu=False, gamma="zeros" if zero_init else "ones")
    shortcut = ZeroPadShortcut(filters)(x) if strides == 2 else x
    return layers.ReLU()(layers.Add()([y, shortcut]))


def plain_block(x, filters, strides, weight_decay=1e-4, zero_init=False):
    """y = ReLU(F(x)): the same two conv-BN layers without a shortcut (zero_init would block the signal: ignored)."""
    y = conv_bn(x, filters, strides=strides, weight_decay=weight_decay)
    return layers.ReLU()(conv_bn(y, filters, weight_decay=weight_decay, relu=False))


def cifar_resnet(
    depth: int,
    residual: bool = True,
    preprocessing=None,
    widths=(16, 32, 64),
    weight_decay=1e-4,
    zero_init_residual: bool = False,
    block=None,
):
    """He et al.'s CIFAR network of `depth` = 6n + 2 layers; residual=False gives the plain net.

    Three stages of n blocks (two 3x3 convs each) with 16/32/64 filters, stride 2 at the start of
    stages 2 and 3, batch norm everywhere, global average pooling, a 10-way softmax. The
    residual version adds identity shortcuts (zero-padded where the shape changes: option A).
    zero_init_residual: start each block's last batch-norm scale at 0, so every block begins as
    the identity (Goyal et al. 2017); off by default, as in He et al.
    block: a function (x, filters, strides, weight_decay, zero_init) -> y to use instead of
    residual_block / plain_block (notebook 06 writes its own).

    Introduced in notebook 05.
    """
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 32, 44, 56, ...); got {depth}")
    blocks = (depth - 2) // 6
    block = block or (residual_block if residual else plain_block)
    inputs, x = model_input(preprocessing, input_pipeline(pad_crop=4, flip=True, whiten=True))
    x = conv_bn(x, widths[0], weight_decay=weight_decay)
    for stage, filters in enumerate(widths):
        for index in range(blocks):
            x = block(x, filters, 2 if stage > 0 and index == 0 else 1, weight_decay, zero_init_residual)
    return classifier_head(inputs, x, weight_decay, f"{'resnet' if residual else 'plain'}{depth}")
