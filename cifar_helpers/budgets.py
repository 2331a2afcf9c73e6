"""One switch for how much compute a notebook spends: smoke, quick, overnight or full."""

from types import SimpleNamespace
from .settings import current

BUDGETS = ("smoke", "quick", "overnight", "full")
DEFAULT_BUDGET = "quick"
ENV_VAR = "CIFAR_BUDGET"
DESCRIPTIONS = {
    "smoke": "seconds per notebook: proves the code runs (CI), numbers mean nothing",
    "quick": "minutes per notebook on 2 CPU cores, few epochs (a class on laptops)",
    "overnight": "hours on 2 CPU cores, every run under an hour",
    "full": "the article's scale, for one GPU",
}


class BudgetError(ValueError):
    """An unknown budget name, or a notebook's settings that miss a budget."""


def resolve_budget(value=None) -> str:
    """The budget to use: `value` if given, else $CIFAR_BUDGET, else 'quick'.

    Introduced in notebook 00.
    """
    name = value or current().budget or DEFAULT_BUDGET
    name = str(name).strip().lower()
    if name not in BUDGETS:
        raise BudgetError(
            f"Unknown budget {name!r}. Use one of {', '.join(BUDGETS)}, e.g. "
            f"{ENV_VAR}=quick, or BUDGET = 'quick' in the notebook's parameters cell."
        )
    return name


def images_phrase(row: dict) -> str:
    """How many training images a settings row trains on, in words (train_size None: all of them)."""
    size = row.get("train_size")
    return "all 45,000 training images" if size is None or size >= 45_000 else f"{size:,} training images"


def budget_settings(settings: dict, budget: str) -> SimpleNamespace:
    """Pick this budget's row from a notebook's {budget: {name: value}} table and print it.

    Introduced in notebook 01.
    """
    missing = [name for name in BUDGETS if name not in settings]
    if missing:
        raise BudgetError(f"The settings table has no row for budget(s) {missing}; give all of {BUDGETS}.")
    budget = resolve_budget(budget)
    row = dict(settings[budget])
    data = f"; this notebook trains on {images_phrase(row)}" if "train_size" in row else ""
    print(f"Budget: {budget} ({DESCRIPTIONS[budget]}){data}")
    print("Settings: " + ", ".join(f"{key}={value}" for key, value in row.items()))
    if not row.get("cpu_bf16"):  # e.g. an exercise's quick row under a bf16 overnight lesson: float32, as recorded
        from .devices import cpu_float32_again

        cpu_float32_again()
    return SimpleNamespace(budget=budget, **row)


def exercise_budget(budget: str) -> str:
    """The budget an exercise's solution trains at: quick (minutes on a laptop) whatever the notebook ran at;
    smoke in CI.

    Introduced in notebook 01.
    """
    return "smoke" if resolve_budget(budget) == "smoke" else "quick"
