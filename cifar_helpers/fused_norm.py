"""Batch norm as one fused kernel on TensorFlow: Keras' own layer, computed faster on the CPU.

Keras' BatchNormalization computes the batch's mean and variance and normalises with separate element-wise
ops, in float32 even under mixed_bfloat16 (it casts the activations up and back). TensorFlow has one
fused kernel for a training step (FusedBatchNormV3, which oneDNN runs on the CPU, in bf16 too). The layer
below calls it while training on TensorFlow with channels-last images, and is Keras' own layer everywhere
else (inference, JAX, other shapes): the same function, the same weights and the same moving averages.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="cifar_helpers")
class BatchNormalization(layers.BatchNormalization):
    """keras.layers.BatchNormalization whose training step on TensorFlow is one fused kernel (NHWC, axis -1).

    Named as Keras' own layer, so its layers are named alike and weights saved with either load into the other.
    """

    def call(self, inputs, training=None, mask=None):
        if not self.fuses(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = inputs.shape[-1]
        scale = ops.cast(self.gamma, "float32") if self.scale else tf.ones((channels,), "float32")
        offset = ops.cast(self.beta, "float32") if self.center else tf.zeros((channels,), "float32")
        empty = tf.zeros((0,), "float32")
        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs,
            scale=scale,
            offset=offset,
            mean=empty,
            variance=empty,
            epsilon=self.epsilon,
            exponential_avg_factor=1.0,
            data_format="NHWC",
            is_training=True,
        )
        count = tf.cast(tf.size(inputs) // channels, "float32")
        variance = variance * (count - 1) / count  # the kernel hands back the unbiased variance; Keras keeps the biased
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return ops.cast(outputs, self.compute_dtype)

    def fuses(self, inputs, training, mask) -> bool:
        """True where the fused kernel stands in: a training step on TensorFlow over NHWC float32 or bf16 images."""
        return (
            keras.backend.backend() == "tensorflow"
            and bool(training)
            and self.trainable
            and mask is None
            and not self.renorm
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and keras.backend.standardize_dtype(inputs.dtype) in ("float32", "bfloat16")
        )
