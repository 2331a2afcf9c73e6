"""What every notebook's setup cell does: its budget's settings row, the devices and the data, each in a line."""

import time

from .budgets import budget_settings
from .data import data_note
from .devices import setup_devices
from .quiet import prepare_jax
from .split import load_split


def start_notebook(notebook: str, settings: dict, budget=None, *, mixed_precision=None, cpu_bf16: bool = False):
    """Print and return (cfg, strategy, split): the budget's row of `settings`, the devices, the data cut to the row.

    cfg also carries the notebook's name, its budget and when it started (cfg.elapsed() gives the seconds since).
    mixed_precision: None asks for it at the `full` budget only (a GPU; CPUs stay float32).
    cpu_bf16: train in mixed_bfloat16 on a CPU with bf16 instructions (setup_devices); a settings row may ask
    for it too (cpu_bf16=True), e.g. for the long runs of one budget only.

    Introduced in notebook 01.
    """
    started = time.perf_counter()
    prepare_jax()
    cfg = budget_settings(settings, budget)
    cfg.notebook, cfg.elapsed = notebook, lambda: time.perf_counter() - started
    strategy = setup_devices(
        mixed_precision=cfg.budget == "full" if mixed_precision is None else mixed_precision,
        cpu_bf16=cpu_bf16 or getattr(cfg, "cpu_bf16", False),
    )
    split = load_split().sized_for({"val_size": None, "eval_size": None, **vars(cfg)})  # validation: smaller saves CPU
    print(data_note(split.source))
    print("data:", split.sizes())
    return cfg, strategy, split
