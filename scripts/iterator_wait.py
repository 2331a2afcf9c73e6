"""Does tf.data's autotuning stall training between epochs? Epoch times, with and without it, and the machine's idle.

    python scripts/iterator_wait.py --epochs 6 --bf16            (notebook 03's final network, all 45,000 images)

On 2 CPU cores, some epochs of the long runs hold a stretch of 20-25 s in which the whole machine is idle. A stack
dump taken in one showed Keras' fit loop destroying the finished epoch's tf.data iterator, which waits for tf.data's
autotune thread to come out of a timed sleep. This trains the same network with the same seed twice, with
tf.data.AUTOTUNE (feed.TF_DATA_AUTOTUNE = True) and with the fixed settings the package ships (False, the
same batches in the same order), and prints each epoch's seconds, the seconds the machine sat idle in it, and the
accuracies, which should agree to the last digit. Run it with nothing else on the CPU (its idle count is the
machine's).
"""

import argparse
import os
import time

import cifar_helpers as ch
import keras
from cifar_helpers import feed, models
from cifar_helpers.training import fit_and_evaluate


def idle_seconds() -> float:
    """The machine's idle time so far (all cores, seconds), from /proc/stat."""
    fields = open("/proc/stat").readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")  # idle + iowait, in clock ticks


class EpochClock(keras.callbacks.Callback):
    """Each epoch's wall seconds and the idle seconds the machine spent in it."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started, self.idle = time.perf_counter(), idle_seconds()

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append((time.perf_counter() - self.started, idle_seconds() - self.idle, logs["val_accuracy"]))


def final_network(network: dict):
    """Notebook 03's final network as its overnight record names it (the network notebook 04 starts from)."""
    model = models.article_cnn(preprocessing=ch.input_pipeline(**network["pipeline"]), **network["switches"])
    return models.compile_for_classification(model, keras.optimizers.Adam(1e-3))


def main() -> None:
    """Train twice, autotune on then off, and print the epochs side by side."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=45_000)
    parser.add_argument("--bf16", action="store_true", help="mixed bfloat16 (a CPU with avx512_bf16 or amx_bf16)")
    args = parser.parse_args()
    ch.setup_devices(cpu_bf16=args.bf16)
    network = ch.load_result("overnight", "03_model_improvements", "LRN")["config"]
    split = ch.load_split().sized_for({"train_size": args.train_size, "val_size": None, "eval_size": None})
    for autotune in (True, False):
        feed.TF_DATA_AUTOTUNE = autotune
        keras.utils.set_random_seed(0)
        clock = EpochClock()
        _, test = fit_and_evaluate(final_network(network), split, epochs=args.epochs, callbacks=[clock])
        for epoch, (seconds, idle, val) in enumerate(clock.rows, 1):
            print(
                f"autotune {'on ' if autotune else 'off'} epoch {epoch}: {seconds:5.1f} s, machine idle "
                f"{idle:5.1f} core-s, val accuracy {val:.4f}",
                flush=True,
            )
        total = sum(row[0] for row in clock.rows)
        print(f"autotune {'on ' if autotune else 'off'}: {total:.0f} s in all, test accuracy {test['accuracy']:.4f}")


if __name__ == "__main__":
    main()
