"""airbench94_muon's optimizer (Keller Jordan, 2025), in Keras 3: Muon on the convolution filters, Nesterov SGD
on the rest.

Muon ("MomentUm Orthogonalized by Newton-Schulz") keeps SGD's Nesterov momentum for each filter bank, but
steps along an orthogonalised copy of it: a few Newton-Schulz iterations push every singular value of the
(out, in * 3 * 3) matrix towards 1, so every direction the filters can move in gets a step of about the same
size. airbench94_muon also rescales each filter bank to norm sqrt(out) before every step, so the rate sets how
far the filters turn, not how large they grow. Everything is written with keras.ops: it runs on TensorFlow and on JAX.
The line numbers below are those of airbench94_muon.py at cifar10-airbench's commit f1c599c (see speedrun.py).
"""

import math

import keras
from keras import ops

# Line 43: the quintic's coefficients; line 32: its 3 iterations and the 1e-7 added to the norm (line 45).
NEWTON_SCHULZ_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NEWTON_SCHULZ_STEPS = 3
NEWTON_SCHULZ_EPSILON = 1e-7


def newton_schulz(
    matrix,
    steps=NEWTON_SCHULZ_STEPS,
    coefficients=NEWTON_SCHULZ_COEFFICIENTS,
    epsilon=NEWTON_SCHULZ_EPSILON,
    dtype="bfloat16",
):
    """The reference's zeropower_via_newtonschulz5 (lines 32-54): a 2-D matrix with its singular values pushed
    to roughly 1 (0.5 to 1.5), computed in `dtype` (the reference: bfloat16) and returned in it."""
    a, b, c = coefficients
    x = ops.cast(matrix, dtype)
    norm = ops.cast(ops.sqrt(ops.sum(ops.square(ops.cast(x, "float32")))), dtype)
    x = x / (norm + epsilon)  # top singular value <= 1
    tall = matrix.shape[0] > matrix.shape[1]
    x = ops.transpose(x) if tall else x
    for _ in range(steps):
        gram = ops.matmul(x, ops.transpose(x))
        x = a * x + ops.matmul(b * gram + c * ops.matmul(gram, gram), x)
    return ops.transpose(x) if tall else x


def as_torch_matrix(kernel):
    """A Keras conv kernel (height, width, in, out) as the (out, in * height * width) matrix PyTorch's
    g.reshape(len(g), -1) gives from its (out, in, height, width) layout."""
    return ops.reshape(ops.transpose(kernel, (3, 2, 0, 1)), (kernel.shape[-1], -1))


def from_torch_matrix(matrix, shape):
    """as_torch_matrix undone: the (out, in * height * width) matrix back as a Keras kernel of `shape`."""
    height, width, inputs, outputs = shape
    return ops.transpose(ops.reshape(matrix, (outputs, inputs, height, width)), (2, 3, 1, 0))


@keras.saving.register_keras_serializable(package="cifar_helpers")
class LinearToZero(keras.optimizers.schedules.LearningRateSchedule):
    """airbench94_muon's schedule (lines 401-403): peak * (1 - step / total_steps), no warm-up, reaching 0 one
    step after the last.

    Introduced in notebook 10."""

    def __init__(self, peak: float, total_steps: int):
        self.peak, self.total_steps = peak, max(1, int(total_steps))

    def __call__(self, step):
        return self.peak * (1.0 - ops.cast(step, "float32") / self.total_steps)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps}


class SpeedrunMuon(keras.optimizers.Optimizer):
    """airbench94_muon's two optimizers (lines 356-362) as one Keras optimizer.

    - every 4-D variable (the convolution filters): Muon (lines 77-85). buffer = momentum * buffer + gradient;
      the Nesterov step gradient + momentum * buffer, orthogonalised by newton_schulz as an (out, in*3*3)
      matrix; the filter bank rescaled to norm sqrt(out) (line 83); then filters -= filter_lr * step. No decay.
    - `head_paths`, `whiten_bias_paths` and every other variable (the batch-norm biases): PyTorch's Nesterov SGD
      with L2 weight decay in the gradient: gradient += (wd / rate) * w, buffer = momentum * buffer +
      gradient, w -= rate * (gradient + momentum * buffer), rate head_lr for the head, bias_lr otherwise.
    - every rate is multiplied by `learning_rate` (LinearToZero(1, total_steps): lines 402-403), except the
      whitening bias's: bias_lr * (1 - step / whiten_bias_steps), frozen (no step, no decay, no momentum) from
      step whiten_bias_steps on (lines 398, 401).

    Keras averages the loss over the batch where the reference sums it (line 399): the gradients are multiplied
    by `gradient_scale` (the batch size) first, so the reference's rates and its `wd` (2e-6 * batch size, line
    345) apply unchanged. (Keras' own decoupled `weight_decay` is not used.)

    Introduced in notebook 10."""

    def __init__(
        self,
        learning_rate,
        *,
        filter_lr: float,
        filter_momentum: float,
        bias_lr: float,
        head_lr: float,
        momentum: float,
        wd: float,
        whiten_bias_steps: int,
        head_paths=(),
        whiten_bias_paths=(),
        gradient_scale: float = 1.0,
        newton_schulz_steps: int = NEWTON_SCHULZ_STEPS,
        newton_schulz_coefficients=NEWTON_SCHULZ_COEFFICIENTS,
        newton_schulz_epsilon: float = NEWTON_SCHULZ_EPSILON,
        newton_schulz_dtype: str = "bfloat16",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.filter_lr, self.filter_momentum = filter_lr, filter_momentum
        self.bias_lr, self.head_lr, self.momentum, self.wd = bias_lr, head_lr, momentum, wd
        self.whiten_bias_steps = max(1, int(whiten_bias_steps))
        self.head_paths, self.whiten_bias_paths = frozenset(head_paths), frozenset(whiten_bias_paths)
        self.gradient_scale = gradient_scale
        self.newton_schulz_steps, self.newton_schulz_epsilon = newton_schulz_steps, newton_schulz_epsilon
        self.newton_schulz_coefficients = tuple(newton_schulz_coefficients)
        self.newton_schulz_dtype = newton_schulz_dtype
        self.head_indices = self.whiten_bias_indices = frozenset()

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.buffers = [self.add_variable_from_reference(v, name="momentum") for v in variables]
        # TensorFlow hands update_step its own variables (no Keras path): find them by index instead.
        self.head_indices = frozenset(self._get_variable_index(v) for v in variables if v.path in self.head_paths)
        self.whiten_bias_indices = frozenset(
            self._get_variable_index(v) for v in variables if v.path in self.whiten_bias_paths
        )

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        gradient = ops.multiply(ops.cast(gradient, variable.dtype), self.gradient_scale)
        factor = ops.cast(learning_rate, variable.dtype)
        if len(variable.shape) == 4:
            self.muon_step(gradient, variable, self.buffers[index], factor)
        elif index in self.whiten_bias_indices:
            step = ops.cast(self.iterations, variable.dtype)
            self.sgd_step(
                gradient,
                variable,
                self.buffers[index],
                self.bias_lr * (1.0 - step / self.whiten_bias_steps),
                self.bias_lr,
                active=self.iterations < self.whiten_bias_steps,
            )
        else:
            rate = self.head_lr if index in self.head_indices else self.bias_lr
            self.sgd_step(gradient, variable, self.buffers[index], rate * factor, rate)

    def muon_step(self, gradient, variable, buffer, factor):
        """Lines 79-85: Nesterov momentum, the filters rescaled to norm sqrt(out), the orthogonalised step."""
        buffer_value = ops.add(ops.multiply(buffer, self.filter_momentum), gradient)
        self.assign(buffer, buffer_value)
        nesterov = ops.add(gradient, ops.multiply(buffer_value, self.filter_momentum))
        update = newton_schulz(
            as_torch_matrix(nesterov),
            self.newton_schulz_steps,
            self.newton_schulz_coefficients,
            self.newton_schulz_epsilon,
            self.newton_schulz_dtype,
        )
        update = ops.cast(from_torch_matrix(update, variable.shape), variable.dtype)
        rescaled = ops.multiply(variable, math.sqrt(variable.shape[-1]) / ops.sqrt(ops.sum(ops.square(variable))))
        self.assign(variable, ops.subtract(rescaled, ops.multiply(update, self.filter_lr * factor)))

    def sgd_step(self, gradient, variable, buffer, rate, initial_rate, active=None):
        """torch.optim.SGD(momentum, nesterov=True, weight_decay=wd / initial_rate) on one variable
        (line 361); where `active` is false, the variable and its buffer are left as they are."""
        gradient = ops.add(gradient, ops.multiply(variable, self.wd / initial_rate))
        buffer_value = ops.add(ops.multiply(buffer, self.momentum), gradient)
        nesterov = ops.add(gradient, ops.multiply(buffer_value, self.momentum))
        stepped = ops.subtract(variable, ops.multiply(nesterov, rate))
        if active is not None:
            kept = ops.convert_to_tensor(buffer), ops.convert_to_tensor(variable)  # JAX's where takes no Variable
            buffer_value, stepped = ops.where(active, buffer_value, kept[0]), ops.where(active, stepped, kept[1])
        self.assign(buffer, buffer_value)
        self.assign(variable, stepped)

    def get_config(self):
        return {
            **super().get_config(),
            "filter_lr": self.filter_lr,
            "filter_momentum": self.filter_momentum,
            "bias_lr": self.bias_lr,
            "head_lr": self.head_lr,
            "momentum": self.momentum,
            "wd": self.wd,
            "whiten_bias_steps": self.whiten_bias_steps,
            "head_paths": sorted(self.head_paths),
            "whiten_bias_paths": sorted(self.whiten_bias_paths),
            "gradient_scale": self.gradient_scale,
            "newton_schulz_steps": self.newton_schulz_steps,
            "newton_schulz_coefficients": list(self.newton_schulz_coefficients),
            "newton_schulz_epsilon": self.newton_schulz_epsilon,
            "newton_schulz_dtype": self.newton_schulz_dtype,
        }
