"""Notebook 10's speedrun: airbench94's network and training recipe (Keller Jordan, 2024), in Keras 3.

Every trick is one of the collection's lessons pushed further, and each can be left out by name
(`without=`) for the ablation:

- whitening: a frozen first convolution that whitens 2x2 patches (02's whitening, done right; whitening.py)
- dirac: convolutions start as the identity on their first channels (06's shortcuts without the shortcut)
- batchnorm: batch norm without a scale, its bias learning 64x faster (03's batch norm, tuned)
- triangle: Nesterov SGD on a short warm-up-then-decay triangle, with weight decay (04's schedules)
- label_smoothing: targets 0.82 / 0.02 instead of 1 / 0 (08)
- alternating_flip: each image mirrored on every other epoch, not at random (02's flips)
- translate: shifts of up to 2 pixels, the border reflected (02's crops)
- lookahead: the weights pulled back to their moving average every 5 steps, harder as training ends
- tta: test-time augmentation, the prediction averaged over mirrored and shifted copies (tta.py)

AIRBENCH94_MUON is the record holder's newer recipe (airbench94_muon.py): the same network and augmentations,
but Muon on the convolution filters and Nesterov SGD on the rest (muon.py), 8 epochs of 2000 images, a
straight-line decay and no lookahead. Pass it as `hyp=` to speedrun_model or speedrun_training.
"""

import inspect
import math
import warnings

import keras
import numpy as np
from keras import layers, ops

from .augment import PadAndRandomCrop
from .checks import flat_layers
from .fused_norm import BatchNormalization
from .muon import LinearToZero, SpeedrunMuon
from .schedules import Triangle
from .tta import tta_scores
from .whitening import whitening_kernel

TRICKS = (
    "whitening",
    "dirac",
    "batchnorm",
    "triangle",
    "label_smoothing",
    "alternating_flip",
    "translate",
    "lookahead",
    "tta",
)

# airbench94's hyperparameters (legacy/airbench94.py), in its "decoupled" units: lr and weight decay per
# 1024 examples, independent of the momentum.
AIRBENCH94 = {
    "widths": (64, 256, 256),
    "epochs": 9.9,
    "batch_size": 1024,
    "lr": 11.5,
    "momentum": 0.85,
    "weight_decay": 0.0153,
    "bias_scaler": 64.0,
    "label_smoothing": 0.2,
    "batchnorm_momentum": 0.6,
    "logit_scale": 1 / 9,
    "translate": 2,
    "lookahead_every": 5,
    "lookahead_decay": 0.95,
    "whitening_images": 5000,
}

# airbench94_muon's hyperparameters (airbench94_muon.py at cifar10-airbench f1c599c4; its line numbers), in its
# own units: PyTorch's rates on a loss summed over the batch (SpeedrunMuon scales Keras' mean-loss gradients).
AIRBENCH94_MUON = {
    "recipe": "airbench94_muon",
    "widths": (64, 256, 256),  # line 221
    "epochs": 8,  # line 352: ceil(8 * len(train_loader)) steps
    "batch_size": 2000,  # line 342
    "filter_lr": 0.24,  # line 362: Muon on the 4-D filters
    "filter_momentum": 0.6,  # line 362, Nesterov
    "bias_lr": 0.053,  # line 343: the batch-norm biases and the whitening bias
    "head_lr": 0.67,  # line 344: the linear head
    "momentum": 0.85,  # line 361: Nesterov SGD for the biases and the head
    "weight_decay": 2e-6,  # line 345: wd = 2e-6 * batch_size; each SGD group's L2 factor is wd / its lr (358-360)
    "whiten_bias_epochs": 3,  # line 353: the whitening bias trains for the first 3 epochs only
    "label_smoothing": 0.2,  # line 399
    "batchnorm_momentum": 0.6,  # line 184 (eps 1e-12, no trained scale: lines 184-186)
    "logit_scale": 1 / 256,  # line 261: head(x) / x.size(-1), the last width
    "head_std": 1.0,  # lines 244-245: the head's weights rescaled to standard deviation 1
    "whiten_bias_init": "pytorch",  # line 224: nn.Conv2d's own bias init, uniform within +-1/sqrt(3 * 2 * 2)
    "translate": 2,  # line 348 (and the alternating flip)
    "whitening_images": 5000,  # line 385 (eps 5e-4: line 247, whitening.EPSILON)
    "newton_schulz_steps": 3,  # line 32 (steps=3; line 84 calls it with the default)
    "newton_schulz_coefficients": (3.4445, -4.7750, 2.0315),  # line 43
    "newton_schulz_epsilon": 1e-7,  # line 32 (added to the norm, line 45)
    "newton_schulz_dtype": "bfloat16",  # line 44
}
NOT_IN_MUON = ("triangle", "lookahead")  # airbench94's tricks that airbench94_muon does not use


def is_muon(hyp) -> bool:
    """Whether `hyp` is airbench94_muon's recipe (AIRBENCH94 has no "recipe" key)."""
    return hyp.get("recipe") == "airbench94_muon"


def keras_rate_and_decay(lr: float, weight_decay: float, momentum: float, batch_size: int):
    """airbench's decoupled (lr, weight decay) as Keras SGD's rate and an L2 factor added to the gradient.

    airbench sums the loss over the batch and divides lr by 1024 * (1 + 1 / (1 - momentum)); Keras
    averages it, so the same steps need a rate batch_size times larger. Its weight decay, added to
    the summed gradient as wd * batch_size / lr * w, becomes (wd / lr) * w on the averaged one.

    Introduced in notebook 10.
    """
    kilostep = 1024 * (1 + 1 / (1 - momentum))
    return lr * batch_size / kilostep, weight_decay / lr


def torch_default_init(seed=None):
    """PyTorch's default conv/linear init, uniform within +-1/sqrt(fan_in), which airbench keeps."""
    return keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform", seed=seed)


@keras.saving.register_keras_serializable(package="cifar_helpers")
class PartialDirac(keras.initializers.Initializer):
    """A conv kernel whose first min(in, out) filters pass input channel i unchanged to output i (centre tap 1,
    all else 0); the remaining filters get PyTorch's default uniform init. A block so initialised starts as
    (nearly) the identity, as a residual block does, but with no shortcut.

    Introduced in notebook 10."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        height, width, inputs, outputs = shape
        kernel = torch_default_init(self.seed)(shape, dtype=dtype)
        count = min(inputs, outputs)
        identity = np.zeros((height, width, inputs, count), dtype="float32")
        identity[height // 2, width // 2, np.arange(count), np.arange(count)] = 1.0
        return ops.concatenate([ops.cast(identity, kernel.dtype), kernel[..., count:]], axis=-1)

    def get_config(self):
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="cifar_helpers")
class AlternatingFlip(layers.Layer):
    """While training, mirror the whole batch on odd epochs and leave it as it is on even ones, so every image is
    seen both ways in turn (FlipOnOddEpochs tells the layer the epoch). The identity at inference.

    Introduced in notebook 10."""

    def build(self, input_shape):
        self.odd_epoch = self.add_weight(name="odd_epoch", shape=(), initializer="zeros", trainable=False)

    def call(self, images, training=None):
        if not training:
            return images
        return ops.where(self.odd_epoch > 0.5, ops.flip(images, axis=2), images)

    def compute_output_shape(self, input_shape):
        return input_shape


class FlipOnOddEpochs(keras.callbacks.Callback):
    """Tell every AlternatingFlip layer of the model whether the epoch starting now is odd (0-based).

    Introduced in notebook 10.
    """

    def on_epoch_begin(self, epoch, logs=None):
        flips = [layer for layer in flat_layers(self.model) if isinstance(layer, AlternatingFlip)]
        if not flips:
            raise ValueError(
                "FlipOnOddEpochs was given a model without an AlternatingFlip layer; drop the callback "
                "or build the model with the alternating flip."
            )
        for layer in flips:
            layer.odd_epoch.assign(float(epoch % 2))


# SpeedrunSGD overrides two private methods of Keras' optimizer (its EMA hooks), read in this Keras' base_optimizer.py.
PRIVATE_HOOKS_READ_IN = "3.15"
PRIVATE_HOOKS = ("_update_model_variables_moving_average", "_overwrite_model_variables_with_average_value")


def check_private_hooks(version: str = keras.__version__, base=keras.optimizers.Optimizer) -> None:
    """Raise if Keras lacks the EMA hooks SpeedrunSGD overrides (or changed their arguments); warn on another Keras."""
    missing = [
        name
        for name in PRIVATE_HOOKS
        if list(inspect.signature(getattr(base, name, lambda: None)).parameters) != ["self", "trainable_variables"]
    ]
    if missing:
        raise RuntimeError(
            f"Keras {version} has no {missing} with the arguments (self, trainable_variables): SpeedrunSGD's "
            f"lookahead overrides them (read in Keras {PRIVATE_HOOKS_READ_IN}). "
            f"Install keras=={PRIVATE_HOOKS_READ_IN}.* or leave lookahead out (without=('lookahead',))."
        )
    if ".".join(version.split(".")[:2]) != PRIVATE_HOOKS_READ_IN:
        warnings.warn(
            f"SpeedrunSGD's lookahead overrides Keras' private EMA hooks as Keras {PRIVATE_HOOKS_READ_IN} defines "
            f"them; this is Keras {version}: check that tests/test_speedrun.py passes on it.",
            stacklevel=3,
        )


class SpeedrunSGD(keras.optimizers.SGD):
    """Nesterov SGD as airbench runs it: L2 weight decay inside the gradient (so it rides the momentum), a
    `fast_scale` times larger rate (same decay) for the variables named in `fast_paths` (batch-norm biases),
    and optional lookahead: Keras' EMA of the weights, written back into the model every `lookahead_every`
    steps, with a pull that grows as training ends (per-step momentum decay * (step / total_steps) ** 0.6,
    so each 5-step pull is airbench's decay ** 5 * progress ** 3).

    Introduced in notebook 10."""

    def __init__(
        self,
        learning_rate,
        *,
        momentum: float,
        l2: float,
        fast_paths=(),
        fast_scale: float = 1.0,
        lookahead_every=None,
        lookahead_decay: float = 0.95,
        total_steps: int = 1,
        **kwargs,
    ):
        if lookahead_every:
            check_private_hooks()
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=True,
            use_ema=bool(lookahead_every),
            ema_momentum=lookahead_decay,
            ema_overwrite_frequency=lookahead_every or None,
            **kwargs,
        )
        self.l2, self.fast_paths, self.fast_scale = l2, frozenset(fast_paths), fast_scale
        self.total_steps = max(1, int(total_steps))
        self.fast_indices = frozenset()

    def build(self, variables):
        super().build(variables)
        # TensorFlow hands update_step its own variables (no Keras path): find them by index instead.
        self.fast_indices = frozenset(self._get_variable_index(v) for v in variables if v.path in self.fast_paths)

    def update_step(self, gradient, variable, learning_rate):
        scale = self.fast_scale if self._get_variable_index(variable) in self.fast_indices else 1.0
        gradient = ops.add(ops.cast(gradient, variable.dtype), ops.multiply(variable, self.l2 / scale))
        super().update_step(gradient, variable, ops.multiply(learning_rate, scale))

    def _update_model_variables_moving_average(self, trainable_variables):
        """Keras' EMA update, with airbench's growing pull instead of a fixed momentum (Keras has no hook for it)."""
        progress = ops.minimum(ops.cast(self.iterations, "float32") / self.total_steps, 1.0)
        momentum = self.ema_momentum * ops.power(progress, 0.6)
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                pull = ops.cast(momentum, variable.dtype)
                average.assign(pull * average + (1 - pull) * variable)

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        """Keras' write-back of the averages, each a copy: on JAX, the weights written back at the end of fit
        would otherwise share their buffers with the averages, and the next evaluate would free them."""
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                variable.assign(ops.copy(average))

    def get_config(self):
        return {
            **super().get_config(),
            "l2": self.l2,
            "fast_paths": sorted(self.fast_paths),
            "fast_scale": self.fast_scale,
            "total_steps": self.total_steps,
        }


def check_tricks(without, hyp=AIRBENCH94) -> tuple:
    """The tricks to leave out, checked against TRICKS (less NOT_IN_MUON for airbench94_muon's recipe)."""
    without = tuple(without)
    unknown = [name for name in without if name not in TRICKS]
    if unknown:
        raise ValueError(f"unknown trick(s) {unknown}; choose from {', '.join(TRICKS)}")
    absent = [name for name in without if is_muon(hyp) and name in NOT_IN_MUON]
    if absent:
        raise ValueError(f"airbench94_muon has no {absent} to leave out (it trains without {', '.join(NOT_IN_MUON)})")
    return without


def conv_group(x, filters: int, dirac: bool, batchnorm_trick: bool, momentum: float):
    """conv 3x3 -> max-pool 2 -> BN -> GELU -> conv 3x3 -> BN -> GELU: one of the network's three blocks."""

    def norm():
        return BatchNormalization(momentum=momentum, epsilon=1e-12, scale=not batchnorm_trick)  # fused on TensorFlow

    def conv():
        return layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=False,
            kernel_initializer=PartialDirac() if dirac else torch_default_init(),
        )

    x = layers.Activation("gelu")(norm()(layers.MaxPooling2D(2)(conv()(x))))
    return layers.Activation("gelu")(norm()(conv()(x)))


def channel_stats(images):
    """Per-channel mean and variance of uint8 images (for the Normalization layer and the whitening)."""
    pixels = np.asarray(images, dtype="float64").reshape(-1, images.shape[-1])
    return pixels.mean(axis=0), pixels.var(axis=0)


def whitening_sample(train_images, count: int = AIRBENCH94["whitening_images"]) -> np.ndarray:
    """The first `count` training images normalised per channel, as the network's Normalization layer sees them.

    Introduced in notebook 10.
    """
    mean, variance = channel_stats(train_images)
    scale = np.sqrt(variance).clip(keras.backend.epsilon())  # as the Normalization layer: no division by zero
    return (np.asarray(train_images[:count], "float64") - mean) / scale


def speedrun_net(train_images, widths=AIRBENCH94["widths"], without=(), hyp=AIRBENCH94, name="speedrun"):
    """The network: per-channel normalisation, the two augmentations, a 2x2 whitening conv (24 filters) and GELU,
    three conv groups of `widths`, global max-pooling, a linear layer and logits scaled by hyp["logit_scale"]
    (1/9; airbench94_muon: 1/256, its head rescaled to std 1 and its whitening bias started as PyTorch's).

    Introduced in notebook 10."""
    without = check_tricks(without, hyp)
    mean, variance = channel_stats(train_images)
    inputs = keras.Input((32, 32, 3))
    x = layers.Normalization(mean=mean, variance=variance)(inputs)
    x = AlternatingFlip()(x) if "alternating_flip" not in without else layers.RandomFlip("horizontal")(x)
    x = PadAndRandomCrop(hyp["translate"], mode="reflect")(x) if "translate" not in without else x
    init = {"kernel_initializer": torch_default_init(), **whiten_bias(hyp)}
    whiten = layers.Conv2D(24, 2, padding="valid", name="whiten", **init)
    x = layers.Activation("gelu")(whiten(x))
    for filters in widths:
        x = conv_group(x, filters, "dirac" not in without, "batchnorm" not in without, hyp["batchnorm_momentum"])
    head = layers.Dense(10, use_bias=False, kernel_initializer=torch_default_init())
    x = head(layers.GlobalMaxPooling2D()(x))
    outputs = layers.Rescaling(hyp["logit_scale"], dtype="float32", name="logits")(x)
    model = keras.Model(inputs, outputs, name=name)
    if "whitening" not in without:
        whiten.kernel.assign(whitening_kernel(whitening_sample(train_images, hyp["whitening_images"])))
        whiten.kernel.trainable = False  # frozen; its bias still trains
    if "head_std" in hyp:
        kernel = keras.ops.convert_to_numpy(head.kernel)
        head.kernel.assign(kernel * (hyp["head_std"] / kernel.std(ddof=1)))  # PyTorch's w.std() is the n - 1 one
    return model


def whiten_bias(hyp) -> dict:
    """The whitening conv's bias initializer: Keras' zeros, or for "whiten_bias_init": "pytorch" nn.Conv2d's
    uniform within +-1/sqrt(fan_in), fan_in = 3 channels * 2 * 2."""
    if hyp.get("whiten_bias_init") != "pytorch":
        return {}
    bound = 1 / math.sqrt(3 * 2 * 2)
    return {"bias_initializer": keras.initializers.RandomUniform(-bound, bound)}


def speedrun_optimizer(model, total_steps: int, batch_size: int, without=(), hyp=AIRBENCH94):
    """SpeedrunSGD with airbench's settings for `model`: the triangle (or its average as a constant rate),
    the batch-norm biases' 64x rate, lookahead."""
    without = check_tricks(without)
    rate, l2 = keras_rate_and_decay(hyp["lr"], hyp["weight_decay"], hyp["momentum"], batch_size)
    schedule = Triangle(rate, total_steps)
    learning_rate = schedule if "triangle" not in without else rate * schedule.mean_factor()
    fast = (
        []
        if "batchnorm" in without
        else [layer.beta.path for layer in flat_layers(model) if isinstance(layer, layers.BatchNormalization)]
    )
    return SpeedrunSGD(
        learning_rate,
        momentum=hyp["momentum"],
        l2=l2,
        fast_paths=fast,
        fast_scale=hyp["bias_scaler"],
        lookahead_every=None if "lookahead" in without else hyp["lookahead_every"],
        lookahead_decay=hyp["lookahead_decay"],
        total_steps=total_steps,
    )


def speedrun_muon_optimizer(model, total_steps: int, batch_size: int, whiten_bias_steps: int, hyp=AIRBENCH94_MUON):
    """SpeedrunMuon with airbench94_muon's settings for a speedrun_net `model`: Muon on the filters, SGD with the
    head's rate on the Dense kernel, the whitening bias trained for `whiten_bias_steps`, all decaying to 0."""
    return SpeedrunMuon(
        LinearToZero(1.0, total_steps),
        filter_lr=hyp["filter_lr"],
        filter_momentum=hyp["filter_momentum"],
        bias_lr=hyp["bias_lr"],
        head_lr=hyp["head_lr"],
        momentum=hyp["momentum"],
        wd=hyp["weight_decay"] * batch_size,
        whiten_bias_steps=whiten_bias_steps,
        head_paths=[layer.kernel.path for layer in flat_layers(model) if isinstance(layer, layers.Dense)],
        whiten_bias_paths=[model.get_layer("whiten").bias.path],
        gradient_scale=float(batch_size),
        newton_schulz_steps=hyp["newton_schulz_steps"],
        newton_schulz_coefficients=hyp["newton_schulz_coefficients"],
        newton_schulz_epsilon=hyp["newton_schulz_epsilon"],
        newton_schulz_dtype=hyp["newton_schulz_dtype"],
    )


def speedrun_model(train_images, epochs: int, batch_size: int, widths=AIRBENCH94["widths"], without=(), hyp=AIRBENCH94):
    """The compiled speedrun model for `epochs` over `train_images` at `batch_size`, tricks in `without` left out;
    `hyp` the recipe (AIRBENCH94, or AIRBENCH94_MUON for airbench94_muon's optimizer).

    Introduced in notebook 10.
    """
    model = speedrun_net(train_images, widths, without, hyp)
    steps_in_epoch = math.ceil(len(train_images) / batch_size)
    total_steps = epochs * steps_in_epoch
    smoothing = 0.0 if "label_smoothing" in without else hyp["label_smoothing"]
    if is_muon(hyp):
        whiten_steps = math.ceil(hyp["whiten_bias_epochs"] * steps_in_epoch)
        optimizer = speedrun_muon_optimizer(model, total_steps, batch_size, whiten_steps, hyp)
    else:
        optimizer = speedrun_optimizer(model, total_steps, batch_size, without, hyp)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def speedrun_callbacks(without=()):
    """The callbacks the recipe needs: the epoch counter of the alternating flip."""
    return [] if "alternating_flip" in check_tricks(without) else [FlipOnOddEpochs()]


def speedrun_training(split, *, epochs: int, batch_size: int, widths, without=(), hyp=AIRBENCH94) -> dict:
    """What ch.train_and_record needs to train one speedrun: its builder, epochs, batch size, config, the
    alternating flip's callback and the TTA test scores (tta.tta_scores).

    Introduced in notebook 10."""
    without = check_tricks(without, hyp)
    config = {
        "recipe": hyp.get("recipe", "airbench94"),
        "widths": list(widths),
        "without": sorted(without),
        "hyp": dict(hyp),
    }

    def build():
        return speedrun_model(split.x_train, epochs, batch_size, widths, without, hyp)

    return {
        "build_model": build,
        "epochs": epochs,
        "batch_size": batch_size,
        "config": config,
        "callbacks": speedrun_callbacks(without),
        "scores": tta_scores,
    }
