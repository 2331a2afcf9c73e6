"""Notebook 10's second recipe, airbench94_muon: SpeedrunMuon against NumPy transcriptions of the reference's
updates (airbench94_muon.py at KellerJordan/cifar10-airbench f1c599c4, its line numbers), the recipe's numbers,
and one training step of a tiny speedrun_net (run this file once per backend: KERAS_BACKEND=tensorflow / jax)."""

import math

import keras
import numpy as np
import pytest

from cifar_helpers import muon, speedrun
from cifar_helpers.machinery.fingerprint import fingerprint
from cifar_helpers.split import split_validation

COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # line 43


def reference_newton_schulz(G, steps=3, coefficients=COEFFICIENTS, eps=1e-7):
    """Lines 42-54 (zeropower_via_newtonschulz5), in float64 where the reference runs bfloat16."""
    a, b, c = coefficients
    X = G / (np.linalg.norm(G) + eps)
    if G.shape[0] > G.shape[1]:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.shape[0] > G.shape[1]:
        X = X.T
    return X


def reference_muon(p, grads, lrs, momentum=0.6, nesterov=True, rescale=True, rescale_axis=0, **newton_schulz):
    """Lines 77-85 on a PyTorch-layout (out, in, h, w) filter bank, one step per gradient (float64)."""
    p, buf = p.astype("float64"), np.zeros(p.shape)
    for g, lr in zip(grads, lrs):
        buf = buf * momentum + g
        g = g + momentum * buf if nesterov else buf
        if rescale:
            p = p * (p.shape[rescale_axis] ** 0.5 / np.linalg.norm(p))  # line 83: len(p.data) ** 0.5 / p.data.norm()
        update = reference_newton_schulz(g.reshape(len(g), -1), **newton_schulz).reshape(g.shape)
        p = p - lr * update
    return p


def reference_sgd(p, grads, lrs, momentum, weight_decay):
    """torch.optim.SGD(momentum, nesterov=True, weight_decay) (line 361), one step per (gradient, lr); an lr of
    None is a step the parameter has no gradient (the whitening bias once detached, line 398): skipped."""
    p, buf, seen = p.astype("float64"), np.zeros(p.shape), []
    for g, lr in zip(grads, lrs):
        if lr is not None:
            g = g + weight_decay * p
            buf = momentum * buf + g
            p = p - lr * (g + momentum * buf)
        seen.append(p)
    return seen


def torch_layout(kernel):
    """A Keras (h, w, in, out) kernel as PyTorch's (out, in, h, w)."""
    return np.transpose(kernel, (3, 2, 0, 1))


def reference_rates(total_steps, **settings):
    """SpeedrunMuon at the reference's rates and momenta (lines 343-344, 361-362), decaying over `total_steps`."""
    rates = dict(filter_lr=0.24, filter_momentum=0.6, bias_lr=0.053, head_lr=0.67, momentum=0.85)
    return muon.SpeedrunMuon(muon.LinearToZero(1.0, total_steps), **rates, **settings)


def keras_muon(kernel, grads, total_steps, dtype=None, gradient_scale=1.0):
    """The kernel after one SpeedrunMuon step per gradient (filter_lr 0.24, momentum 0.6, LinearToZero), its
    Newton-Schulz in `dtype` (None: SpeedrunMuon's default)."""
    variable = keras.Variable(kernel, name="filters")
    dtype = {} if dtype is None else {"newton_schulz_dtype": dtype}
    optimizer = reference_rates(total_steps, wd=0.004, whiten_bias_steps=3, gradient_scale=gradient_scale, **dtype)
    for gradient in grads:
        optimizer.apply([gradient], [variable])
    return keras.ops.convert_to_numpy(variable)


def filter_case(shape, steps=2, seed=0):
    """A Keras kernel of `shape` and `steps` gradients, float32."""
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=shape).astype("float32")
    return kernel, [rng.normal(size=shape).astype("float32") for _ in range(steps)]


# (3, 3, 4, 6): a wide (6, 36) matrix; (1, 1, 3, 8): a tall (8, 3) one, which the reference transposes (line 46).
SHAPES = [(3, 3, 4, 6), (1, 1, 3, 8)]
TOTAL = 10  # two steps of a 10-step run: rates 0.24 and 0.24 * 0.9 (lines 402-403)
RATES = [0.24, 0.24 * (1 - 1 / TOTAL)]
ATOL = 1e-5  # float32 against float64: the differences measured were below 2e-6 (weights ~0.1 to 1)

WRONG = {
    "b one percent off": {"coefficients": (3.4445, -4.7750 * 1.01, 2.0315)},
    "a in the fourth digit": {"coefficients": (3.4435, -4.7750, 2.0315)},
    "5 iterations (Keras' default)": {"steps": 5},
    "no Nesterov": {"nesterov": False},
    "momentum 0.95 (Keras' default)": {"momentum": 0.95},
    "no weight rescaling (Keras')": {"rescale": False},
    "rescaled by the kernel's height, not its outputs": {"rescale_axis": 2},
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_muon_step_is_the_references_in_float32(shape):
    kernel, grads = filter_case(shape)
    ours = torch_layout(keras_muon(kernel, grads, TOTAL, "float32", gradient_scale=64.0))
    reference = reference_muon(torch_layout(kernel), [torch_layout(g) for g in grads], RATES)
    np.testing.assert_allclose(ours, reference, atol=ATOL, rtol=0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("wrong", WRONG)
def test_a_wrong_transcription_fails_that_comparison(shape, wrong):
    """The tolerance can fail: each change to the reference moves the result far beyond ATOL."""
    kernel, grads = filter_case(shape)
    ours = torch_layout(keras_muon(kernel, grads, TOTAL, "float32"))
    reference = reference_muon(torch_layout(kernel), [torch_layout(g) for g in grads], RATES, **WRONG[wrong])
    assert np.abs(ours - reference).max() > 30 * ATOL


def bf16_update_error(shape, seed, **wrong):
    """One step with SpeedrunMuon's default Newton-Schulz (bfloat16, as the reference's): the relative Frobenius
    distance of its orthogonalised update from the float64 reference's (read back: (rescaled - new) / 0.24)."""
    kernel, grads = filter_case(shape, steps=1, seed=seed)
    p, g = torch_layout(kernel).astype("float64"), torch_layout(grads[0]).astype("float64")
    rescaled = p * (len(p) ** 0.5 / np.linalg.norm(p))
    ours = (rescaled - torch_layout(keras_muon(kernel, grads, TOTAL))) / 0.24
    reference = reference_newton_schulz((1.6 * g).reshape(len(g), -1), **wrong).reshape(g.shape)  # Nesterov: 1.6 g
    return np.linalg.norm(ours - reference) / np.linalg.norm(reference)


# bfloat16 keeps 8 significant bits (relative rounding up to 2^-9 per operation), and each iteration multiplies
# an error along a small singular direction by up to the quintic's slope at zero, a = 3.4445: 3.4445^3 = 41 over
# three steps. The distances measured on these shapes and seeds were 0.017 to 0.058 (TensorFlow and JAX alike);
# 0.1 leaves room. It is as large as a 1% change to a coefficient or 5 steps instead of 3 (0.03 to 0.1), so those
# are the float32 test's to catch; this one catches the gross errors below, and a float32 iteration (too exact).
BF16_TOLERANCE = 0.1


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_default_bf16_step_is_the_references_within_bf16_precision(shape, seed):
    assert 1e-3 < bf16_update_error(shape, seed) < BF16_TOLERANCE  # bfloat16's error, not float32's (below 1e-5)


@pytest.mark.parametrize(
    "wrong", [{"steps": 2}, {"coefficients": (3.0, -4.7750, 2.0315)}, {"coefficients": (1.5, -0.5, 0.0)}]
)
def test_the_bf16_tolerance_still_fails_a_wrong_iteration(wrong):
    assert bf16_update_error(SHAPES[0], 0, **wrong) > BF16_TOLERANCE


def test_newton_schulz_runs_in_bfloat16_by_default():
    out = muon.newton_schulz(keras.ops.ones((2, 3)))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"


def sgd_groups(gradient_scale, wd, steps=4, seed=0):
    """Four SpeedrunMuon steps on a batch-norm bias, a head kernel and a whitening bias (trained for 2 steps of
    5): the three variables after each step, and the gradients given (Keras' mean-loss ones)."""
    rng = np.random.default_rng(seed)
    values = {"bias": rng.normal(size=4), "head": rng.normal(size=(5, 3)), "whiten": rng.normal(size=3)}
    variables = {name: keras.Variable(value.astype("float32"), name=name) for name, value in values.items()}
    optimizer = reference_rates(
        5, wd=wd, whiten_bias_steps=2, gradient_scale=gradient_scale,
        head_paths=[variables["head"].path], whiten_bias_paths=[variables["whiten"].path],
    )  # fmt: skip
    grads = [{name: rng.normal(size=v.shape).astype("float32") for name, v in values.items()} for _ in range(steps)]
    seen = []
    for step in grads:
        optimizer.apply([step[name] for name in variables], list(variables.values()))
        seen.append({name: keras.ops.convert_to_numpy(v) for name, v in variables.items()})
    return values, grads, seen


def reference_groups(values, grads, gradient_scale, wd, head_lr=0.67, whiten_steps=2):
    """The reference's three SGD groups (lines 358-361) on the summed-loss gradients, with its schedules: 1 - s / 5
    for the bias and head (403), 1 - s / 2 for the whitening bias (401), which has no gradient from step 2 (398)."""
    summed = {name: [gradient_scale * step[name] for step in grads] for name in values}
    steps = range(len(grads))
    whiten = [0.053 * (1 - s / whiten_steps) if s < 2 else None for s in steps]
    return {
        "bias": reference_sgd(values["bias"], summed["bias"], [0.053 * (1 - s / 5) for s in steps], 0.85, wd / 0.053),
        "head": reference_sgd(
            values["head"], summed["head"], [head_lr * (1 - s / 5) for s in steps], 0.85, wd / head_lr
        ),
        "whiten": reference_sgd(values["whiten"], summed["whiten"], whiten, 0.85, wd / 0.053),
    }


def keras_sgd_form(p, grads, lrs, momentum, weight_decay):
    """Keras' SGD (keras/src/optimizers/sgd.py): its buffer holds -lr * gradient, so it differs once the lr moves."""
    p, m, seen = p.astype("float64"), 0.0, []
    for g, lr in zip(grads, lrs):
        g = g + weight_decay * p
        m = momentum * m - lr * g
        p = p + momentum * m - lr * g
        seen.append(p)
    return seen


def test_the_other_groups_get_the_references_sgd_step():
    values, grads, seen = sgd_groups(gradient_scale=8.0, wd=0.5)  # a large wd, so that the decay shows
    reference = reference_groups(values, grads, 8.0, 0.5)
    for step in range(4):
        for name in values:
            np.testing.assert_allclose(seen[step][name], reference[name][step], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(seen[3]["whiten"], seen[1]["whiten"])  # frozen after its 2 steps


WRONG_SGD = {
    "no gradient scale (Keras' mean loss)": {"gradient_scale": 1.0},
    "no weight decay": {"wd": 0.0},
    "the biases' rate for the head": {"head_lr": 0.053},
    "the whitening bias on the 5-step schedule": {"whiten_steps": 5},
}


@pytest.mark.parametrize("wrong", [*WRONG_SGD, "Keras' SGD form"])
def test_a_wrong_sgd_fails_that_comparison(wrong):
    values, grads, seen = sgd_groups(gradient_scale=8.0, wd=0.5)
    reference = reference_groups(values, grads, **{"gradient_scale": 8.0, "wd": 0.5, **WRONG_SGD.get(wrong, {})})
    if wrong == "Keras' SGD form":
        summed = [8.0 * step["head"] for step in grads]
        reference["head"] = keras_sgd_form(
            values["head"], summed, [0.67 * (1 - s / 5) for s in range(4)], 0.85, 0.5 / 0.67
        )
    assert max(np.abs(seen[s][name] - reference[name][s]).max() for s in range(4) for name in values) > 1e-3


def test_the_recipe_is_the_references():
    """The numbers as airbench94_muon.py writes them (its line in each comment)."""
    hyp = speedrun.AIRBENCH94_MUON
    expected = {
        "widths": (64, 256, 256),  # 221
        "batch_size": 2000,  # 342
        "bias_lr": 0.053,  # 343
        "head_lr": 0.67,  # 344
        "weight_decay": 2e-6,  # 345: wd = 2e-6 * batch_size
        "epochs": 8,  # 352
        "whiten_bias_epochs": 3,  # 353
        "momentum": 0.85,  # 361
        "filter_lr": 0.24,  # 362
        "filter_momentum": 0.6,  # 362
        "label_smoothing": 0.2,  # 399
        "batchnorm_momentum": 0.6,  # 184
        "logit_scale": 1 / 256,  # 261
        "head_std": 1.0,  # 245
        "translate": 2,  # 348
        "whitening_images": 5000,  # 385
        "newton_schulz_steps": 3,  # 32
        "newton_schulz_coefficients": (3.4445, -4.7750, 2.0315),  # 43
        "newton_schulz_epsilon": 1e-7,  # 32
        "newton_schulz_dtype": "bfloat16",  # 44
    }
    assert {key: hyp[key] for key in expected} == expected
    assert (muon.NEWTON_SCHULZ_STEPS, muon.NEWTON_SCHULZ_COEFFICIENTS) == (3, COEFFICIENTS)
    assert speedrun.is_muon(hyp) and not speedrun.is_muon(speedrun.AIRBENCH94)


def test_the_schedule_falls_in_a_straight_line_to_zero():
    schedule = muon.LinearToZero(0.24, 200)
    rates = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 1, 199)]
    assert rates == pytest.approx([0.24, 0.24 * 199 / 200, 0.24 / 200], rel=1e-5)  # float32


def test_airbench94_muon_has_no_triangle_or_lookahead_to_leave_out():
    with pytest.raises(ValueError, match="airbench94_muon has no"):
        speedrun.check_tricks(["lookahead"], speedrun.AIRBENCH94_MUON)
    assert speedrun.check_tricks(["lookahead"]) == ("lookahead",)


def tiny_muon_model(tiny_cifar):
    """A (4, 8, 8) speedrun model with airbench94_muon's recipe for 2 epochs of 64 images at batch 64, and its split."""
    split = split_validation(tiny_cifar, val_size=50)
    return speedrun.speedrun_model(split.x_train[:64], 2, 64, (4, 8, 8), hyp=speedrun.AIRBENCH94_MUON), split


def test_the_recipe_builds_its_net_and_optimizer(tiny_cifar):
    model, split = tiny_muon_model(tiny_cifar)
    optimizer = model.optimizer
    assert isinstance(optimizer, muon.SpeedrunMuon)
    assert optimizer.wd == pytest.approx(2e-6 * 64) and optimizer.gradient_scale == 64.0
    assert optimizer.whiten_bias_steps == 3  # ceil(3 epochs * 1 step)
    assert optimizer.get_config()["learning_rate"]["config"] == {"peak": 1.0, "total_steps": 2}
    assert (optimizer.filter_lr, optimizer.filter_momentum, optimizer.momentum) == (0.24, 0.6, 0.85)
    assert (optimizer.bias_lr, optimizer.head_lr) == (0.053, 0.67)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][0]
    assert sorted(optimizer.head_paths) == [dense.kernel.path]
    assert sorted(optimizer.whiten_bias_paths) == [model.get_layer("whiten").bias.path]
    assert np.std(keras.ops.convert_to_numpy(dense.kernel), ddof=1) == pytest.approx(1.0, rel=1e-5)
    assert model.get_layer("logits").scale == pytest.approx(1 / 256)
    bias = keras.ops.convert_to_numpy(model.get_layer("whiten").bias)
    assert 0 < np.abs(bias).max() <= 1 / math.sqrt(12)  # nn.Conv2d's default bias, not Keras' zeros
    assert fingerprint(model)["optimizer"]["class_name"] == "SpeedrunMuon"
    assert muon.SpeedrunMuon.from_config(optimizer.get_config()).get_config() == optimizer.get_config()
    recipe = speedrun.speedrun_training(split, epochs=2, batch_size=64, widths=(4, 8, 8), hyp=speedrun.AIRBENCH94_MUON)
    assert recipe["config"]["recipe"] == "airbench94_muon"
    assert (
        speedrun.speedrun_training(split, epochs=2, batch_size=64, widths=(4, 8, 8))["config"]["recipe"] == "airbench94"
    )


def test_one_training_step_of_a_tiny_speedrun_net(tiny_cifar):
    """One fit step on this backend: every filter bank takes a Muon step (rescaled to norm sqrt(out), then moved by
    0.24 times a matrix with singular values near 1), the whitening kernel stays, the SGD groups move."""
    model, split = tiny_muon_model(tiny_cifar)
    before = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
    labels = keras.utils.to_categorical(split.y_train[:64], 10)
    history = model.fit(
        split.x_train[:64], labels, batch_size=64, epochs=1, verbose=0, callbacks=speedrun.speedrun_callbacks()
    )
    assert np.isfinite(history.history["loss"][0])
    after = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
    filters = [v for v in model.trainable_weights if len(v.shape) == 4]
    assert len(filters) == 6
    for variable in filters:
        p = torch_layout(before[variable.path]).astype("float64")
        rescaled = p * (len(p) ** 0.5 / np.linalg.norm(p))
        step = (rescaled - torch_layout(after[variable.path])) / 0.24
        singular = np.linalg.svd(step.reshape(len(step), -1), compute_uv=False)
        assert 0.6 < singular.max() < 1.3, (variable.path, singular)
    np.testing.assert_array_equal(after["whiten/kernel"], before["whiten/kernel"])
    for variable in model.trainable_weights:
        assert not np.array_equal(after[variable.path], before[variable.path]), variable.path
