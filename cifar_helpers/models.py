"""Networks reused across notebooks, each built by one function with switches for the lessons."""

import keras
import tensorflow as tf
from keras import layers

from .augment import input_pipeline

# The article's text says weights ~ N(0, 0.001); the repository's conv layer uses N(0, 0.01).
# With Keras' batch-mean loss, 0.001 does not train at all (notebook 01 shows it), so 0.01 is the default.
ARTICLE_INIT_STDDEV = 0.01


@keras.saving.register_keras_serializable(package="cifar_helpers")
class LocalResponseNormalization(layers.Layer):
    """AlexNet's LRN across channels (tf.nn.local_response_normalization); no weights."""

    def __init__(self, depth_radius=7, bias=1.0, alpha=0.001, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs):
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta)

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


def article_cnn(preprocessing=None, weight_decay=0.0, dropout=0.0, batch_norm=False, lrn=False,
                init_stddev=ARTICLE_INIT_STDDEV, name="article_cnn"):
    """The article's CNN: 3x (conv3x3 64/128/256 + max-pool 2), FC 1024, FC 10 softmax.

    preprocessing: layers applied first (default: pixels / 255), e.g. ch.input_pipeline(...).
    weight_decay: L2 factor on every kernel.  dropout: rate on the FC-1024 output.
    batch_norm: BN between each conv/FC and its ReLU.  lrn: LRN after each pool (radius 7).
    init_stddev: weights ~ N(0, init_stddev), biases 0, as in the article's code.
    """
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
    initializer = keras.initializers.RandomNormal(mean=0.0, stddev=init_stddev)
    dense_options = dict(kernel_initializer=initializer, kernel_regularizer=regularizer)
    conv_options = dict(kernel_size=3, padding="same", **dense_options)

    inputs = keras.Input((32, 32, 3))
    x = inputs
    for step in (preprocessing if preprocessing is not None else input_pipeline()):
        x = step(x)
    for filters in (64, 128, 256):
        x = layers.Conv2D(filters, use_bias=not batch_norm, **conv_options)(x)
        x = layers.BatchNormalization()(x) if batch_norm else x
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
        x = LocalResponseNormalization()(x) if lrn else x
    x = layers.Flatten()(x)
    x = layers.Dense(1024, use_bias=not batch_norm, **dense_options)(x)
    x = layers.BatchNormalization()(x) if batch_norm else x
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x) if dropout else x
    outputs = layers.Dense(10, activation="softmax", dtype="float32", **dense_options)(x)
    return keras.Model(inputs, outputs, name=name)


def compile_for_classification(model, optimizer, label_smoothing=0.0):
    """Compile with cross-entropy and accuracy; one-hot losses when smoothing is asked for.

    Keras' sparse cross-entropy has no label_smoothing argument: smoothing needs one-hot
    targets, so such a model must be trained with one_hot=True in train_and_record.
    """
    if label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model
