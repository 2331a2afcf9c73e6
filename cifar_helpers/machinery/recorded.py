"""ch.train_and_record: the plain loop (training.fit_and_evaluate) with records, reuse and resume around it.

A matching record stands in for training (matching.py); an interrupted fit resumes from its last finished epoch
(resume.py, its backup under KERAS_HOME); several processes resume together (processes.py, resume.py).
"""

import contextlib
import datetime
from pathlib import Path

import keras

from ..checks import warn_if_unscaled
from ..records import found_result_path, result_path, write_json_atomically
from ..training import fit_and_evaluate, predict_test_images, test_batches, wants_one_hot
from ..backend import backend_versions
from .fingerprint import fingerprint
from .matching import reused_run, scores_name
from .processes import jax_processes_scope, model_on_this_process, several_processes
from .progress import placement_line, progress_callbacks
from ..quiet import prepare_jax
from ..settings import current as current_settings
from .resume import EpochLog, FinalWeights, agree_on_resume, backup_callback, lost_process_guard, run_dir, run_folder


def train_and_record(
    build_model,
    split,
    *,
    notebook: str,
    run: str,
    budget: str,
    epochs: int,
    batch_size: int = 128,
    strategy=None,
    seed: int = 0,
    callbacks=(),
    label=None,
    config=None,
    needs_model: bool = False,
    scores=None,
    test_each_epoch: bool = False,
    keep_predictions: bool = False,
):
    """Build (seeded, inside the strategy), fit, test and record one run; return (record, model).

    A record of the same run with the same budget, settings, backend and data source is reused
    instead of training (CIFAR_RETRAIN=1 trains anyway); its model comes back only when this
    machine kept its weights, else None (needs_model=True then trains again). An interrupted fit
    resumes from its last finished epoch. config: the settings that define the run (recorded).
    scores: a function (model, split) -> {name: value} of extra test scores to record (e.g. tta.tta_scores).
    test_each_epoch: also test after every epoch (history's test_accuracy, test_loss): a constant-rate run then
    holds each shorter run's test score too. keep_predictions: also record each test image's predicted class and
    its probability (records.kept_predictions reads them), so a figure of them needs no trained model.
    Introduced in notebook 01.
    """
    model = built_in_scope(build_model, strategy, seed)
    shape = dict(epochs=epochs, batch_size=batch_size, seed=seed, test_each_epoch=test_each_epoch)
    wanted = run_settings(model, split, budget=budget, config=config, **shape)
    reused = reused_run(
        found_result_path(budget, notebook, run), wanted, model, strategy, scores, needs_model, keep_predictions
    )
    if reused is not None:
        return reused
    if current_settings().reuse_only:
        raise RuntimeError(
            f"{notebook} {run} has no record to reuse here (the line above says why), and CIFAR_REUSE_ONLY=1 forbids "
            "training it: unset CIFAR_REUSE_ONLY to train it, or bring its record (and weights) to this machine."
        )
    progress = progress_callbacks(f"{notebook} {run}", epochs)
    fitted, model = fit_and_test(
        model, split, run_dir(budget, notebook, run), wanted, **shape,
        callbacks=[*callbacks, *progress], scores=scores, placement=strategy, keep_predictions=keep_predictions,
    )  # fmt: skip
    record = {"notebook": notebook, "run": run, "label": label or run, **fitted, "device": placement_line(strategy)}
    record["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    if getattr(strategy, "writes_files", True):
        write_json_atomically(result_path(budget, notebook, run), record)
    print(f"{record['label']}: test accuracy {record['test_accuracy']:.4f} ({epochs} epochs on "
          f"{record['train_size']} images, {record['wall_time_s']:.0f} s)")  # fmt: skip
    return record, model


def built_in_scope(build_model, strategy, seed: int):
    """build_model() after seeding, inside the strategy's scope; checked to be compiled and fed unscaled pixels."""
    prepare_jax()  # on JAX: set_random_seed imports an installed TensorFlow; quietly
    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model()
    if not getattr(model, "compiled", False):
        raise ValueError("build_model must return a compiled model (call model.compile inside it).")
    warn_if_unscaled(model)
    return model


def run_settings(model, split, *, budget: str, config, epochs: int, batch_size: int, seed: int, test_each_epoch: bool):
    """The settings that define a run (a record stands in for another only when they match), with the stamp."""
    wanted = {
        "budget": budget,
        "config": dict(config or {}),
        "epochs": epochs,
        "batch_size": batch_size,
        "train_size": int(len(split.y_train)),
        "val_size": int(len(split.y_val)),
        "test_size": int(len(split.y_test)),
        "seed": seed,
        "params": int(model.count_params()),
        "data_source": split.source,
        **backend_versions(),
    }
    if test_each_epoch:  # only then: the records made before the setting existed still match
        wanted["test_each_epoch"] = True
    return {**wanted, "fingerprint": fingerprint(model)}


def fit_and_test(
    model,
    split,
    folder: Path,
    wanted: dict,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    callbacks,
    scores=None,
    placement=None,
    test_each_epoch=False,
    keep_predictions=False,
):
    """training.fit_and_evaluate with a per-epoch backup (resuming one left by an interrupted sitting) and the
    final weights kept; returns (the run's record fields, model).

    placement (setup_devices' answer) with several processes: each feeds its share of the global batch and
    keeps its own backup; they resume together from the last epoch all of them finished (resume.py).
    """
    with run_folder(folder, wanted, placement) as folder, lost_process_guard(placement, folder, epochs):
        with jax_processes_scope(placement):
            log, fitted = EpochLog(folder / "epochs.json"), folder / "final.weights.h5"
            if len(log.entries) == epochs and fitted.exists() and not several_processes(placement):
                print(f"the fit finished in an earlier sitting ({epochs} epochs); testing its saved weights")
                model.optimizer.build(model.trainable_variables)
                model.load_weights(fitted)
                num_classes = len(split.class_names) if wants_one_hot(model) else None
                tested = model.evaluate(
                    test_batches(split, batch_size, placement, num_classes), verbose=0, return_dict=True
                )
            else:
                resumed = agree_on_resume(folder, placement)
                log.keep(resumed)
                if resumed:
                    print(f"resuming from epoch {resumed} of {epochs} (a previous sitting was interrupted)")
                kept = [
                    backup_callback(folder),
                    log,
                    FinalWeights(fitted),  # when the fit ends, before testing (which may fail)
                    keras.callbacks.CSVLogger(str(folder / "log.csv"), append=True),  # a line an epoch: `tail` it
                ]
                _, tested = fit_and_evaluate(
                    model,
                    split,
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    callbacks=[*kept, *callbacks],
                    test_each_epoch=test_each_epoch,
                    first_epoch=resumed,
                    placement=placement,
                )
        model = model_on_this_process(model, placement)
        extra = {name: float(value) for name, value in (scores(model, split) if scores else {}).items()}
        if scores:
            extra["scores"] = scores_name(scores)
        if keep_predictions:
            extra["predictions"] = predict_test_images(model, split)
        (folder / "epochs.json").unlink()
    wall = log.seconds()
    record = {
        **wanted,
        "test_accuracy": float(tested["accuracy"]),
        "test_loss": float(tested["loss"]),
        **extra,
        "history": log.history(),
        "wall_time_s": round(wall, 1),
        "seconds_per_epoch": round(wall / max(epochs, 1), 1),
        "epoch_seconds": [round(entry["seconds"], 2) for entry in log.entries],
    }
    return record, model


def train_more_seeds(build_model, split, first: dict, *, seeds=(1, 2), strategy=None, **options) -> list:
    """`first` (a recorded run) trained again with each of `seeds`, as <run>_seed<N>; returns [first, *those records].

    Everything else (notebook, budget, label, epochs, batch size, config, tests) is taken from `first`, so the
    runs differ only in their seed: what noise.seed_spread needs.
    """
    if first["seed"] in seeds:
        raise ValueError(f"seeds {tuple(seeds)} include the first run's own seed {first['seed']}; pick others")
    same = {key: first[key] for key in ("notebook", "label", "budget", "epochs", "batch_size", "config")}
    return [first] + [
        train_and_record(build_model, split, run=f"{first['run']}_seed{seed}", strategy=strategy, seed=seed,
                         test_each_epoch=first.get("test_each_epoch", False), **same, **options)[0]
        for seed in seeds
    ]  # fmt: skip
