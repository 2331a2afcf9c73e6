"""Train a run's shared first epochs once: a branch resumes from its trunk's backup at the epoch where they part.

Two runs whose schedules are equal up to epoch E (notebook 04: constant 0.01 and the article's schedule until its
first drop) would train the same E epochs twice. Instead, the trunk carries `BranchAt(E, ...)`: after its epoch E
it lays its backup (weights and optimizer state) and its epoch log in the branch's run folder, stamped with the
branch's own settings. The branch's train_and_record then resumes from epoch E, as after an interrupted sitting,
and its record holds the whole history, the shared epochs' seconds included. The two schedules must have the same
optimizer variables (both LearningRateSchedules: a float rate adds a variable a schedule does not have).

Used from scripts/step3_runs.sh through scripts/train_runs.py --run statements:
    from scripts.branch import BranchAt, settings_of
"""

import shutil

import keras

from cifar_helpers.machinery.recorded import built_in_scope, run_settings
from cifar_helpers.machinery.resume import run_dir
from cifar_helpers.records import write_json_atomically


def settings_of(
    build_model,
    split,
    *,
    budget: str,
    config: dict,
    epochs: int,
    strategy=None,
    seed: int = 0,
    batch_size: int = 128,
    test_each_epoch: bool = False,
    **naming,
) -> dict:
    """The settings train_and_record will want for a run (the stamp its backup must carry to be resumed); its
    naming arguments (notebook, run, label) may come along and change nothing."""
    model = built_in_scope(build_model, strategy, seed)
    return run_settings(model, split, budget=budget, config=config, epochs=epochs, batch_size=batch_size, seed=seed,
                        test_each_epoch=test_each_epoch)  # fmt: skip


class BranchAt(keras.callbacks.Callback):
    """After the trunk's epoch `epoch`, give the branch run the trunk's backup and epoch log, with its own stamp."""

    def __init__(self, epoch: int, *, budget: str, notebook: str, trunk: str, branch: str, branch_settings: dict):
        super().__init__()
        self.epoch, self.branch_settings = epoch, branch_settings
        self.trunk, self.branch = run_dir(budget, notebook, trunk), run_dir(budget, notebook, branch)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 != self.epoch:
            return
        shutil.rmtree(self.branch, ignore_errors=True)
        shutil.copytree(self.trunk / "backup", self.branch / "backup")  # written by BackupAndRestore before this
        shutil.copy2(self.trunk / "epochs.json", self.branch / "epochs.json")
        write_json_atomically(self.branch / "settings.json", self.branch_settings)
        print(f"branched {self.branch.name} from {self.trunk.name} after epoch {self.epoch}")
