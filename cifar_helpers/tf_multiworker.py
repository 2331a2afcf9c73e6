"""TensorFlow's MultiWorkerMirroredStrategy, mended so that Keras 3's fit runs on it (TensorFlow backend only).

Keras 3.15's fit calls strategy.reduce on a whole nested structure of per-replica values (the first batch,
when it builds the model) and reduces scalar logs along axis 0; MultiWorkerMirroredStrategy takes neither
(https://github.com/keras-team/keras/issues/20585). The subclass below reduces each element on its own, and
scalars along no axis. It only changes what Keras reads back (the build batch and the logs): the gradient
all-reduce is the strategy's own. Drop it once the upstream issue is fixed.
"""


def multi_worker_strategy():
    """A MultiWorkerMirroredStrategy (from $TF_CONFIG) whose reduce takes nested values and scalars (keras#20585).

    TensorFlow is imported here, when the strategy is built on the TensorFlow backend, not with the package.
    """
    import tensorflow as tf

    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """Reduce every element of a nested value on its own; scalars (rank 0) along no axis."""

        def reduce(self, reduce_op, value, axis):
            def one(element):
                rank = self.experimental_local_results(element)[0].shape.rank
                return super(MultiWorkerMirroredStrategy, self).reduce(reduce_op, element, None if rank == 0 else axis)

            return tf.nest.map_structure(one, value)

    return MultiWorkerMirroredStrategy()
