"""What a run shows beyond the notebook: a line per epoch on the terminal that runs the notebooks, and the
device line a record keeps."""

import sys
import time

import keras

from ..settings import current

PROGRESS_VAR = "CIFAR_PROGRESS"  # set by `python -m cifar_helpers run`: one line per epoch on its terminal


class TerminalProgress(keras.callbacks.Callback):
    """One line per epoch on the terminal that runs the notebooks (not in them): the run, time so far, time left."""

    def __init__(self, title: str, epochs: int, stream=None):
        super().__init__()
        self.title, self.epochs, self.stream = title, epochs, stream or sys.__stderr__
        self.started, self.first_epoch = None, 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.started is None:  # the first epoch of this sitting (a resumed run starts part-way)
            self.started, self.first_epoch = time.perf_counter(), epoch

    def on_epoch_end(self, epoch, logs=None):
        done, elapsed = epoch + 1 - self.first_epoch, time.perf_counter() - self.started
        left = elapsed / done * (self.epochs - epoch - 1)
        accuracy = (logs or {}).get("val_accuracy")
        shown = f", val accuracy {accuracy:.4f}" if accuracy is not None else ""
        print(
            f"  {self.title}: epoch {epoch + 1}/{self.epochs}{shown}, {elapsed / 60:.1f} min so far, "
            f"about {left / 60:.1f} min left",
            file=self.stream,
            flush=True,
        )


def progress_callbacks(title: str, epochs: int) -> list:
    """[TerminalProgress] when the notebook runner asked for it ($CIFAR_PROGRESS), else []."""
    return [TerminalProgress(title, epochs)] if current().progress else []


def placement_line(strategy) -> str:
    """The device line setup_devices printed, or a short stand-in."""
    return getattr(strategy, "device_line", None) or "default device (setup_devices not called)"
