"""The budget switch."""

import pytest

from cifar_helpers.budgets import BudgetError, budget_settings, exercise_budget, resolve_budget

SETTINGS = {"smoke": {"epochs": 1}, "quick": {"epochs": 5}, "overnight": {"epochs": 12}, "full": {"epochs": 50}}


def test_default_is_quick_and_env_var_overrides(monkeypatch):
    assert resolve_budget() == "quick"
    monkeypatch.setenv("CIFAR_BUDGET", "Smoke")
    assert resolve_budget() == "smoke"
    assert resolve_budget("full") == "full"


def test_unknown_budget_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("CIFAR_BUDGET", "fast")
    with pytest.raises(BudgetError, match="Unknown budget 'fast'. Use one of smoke, quick, overnight, full"):
        resolve_budget()


def test_settings_row_is_picked_and_printed(capsys):
    cfg = budget_settings(SETTINGS, "full")
    assert cfg.epochs == 50 and cfg.budget == "full"
    assert "epochs=50" in capsys.readouterr().out


def test_settings_must_cover_every_budget():
    with pytest.raises(BudgetError, match="no row for budget\\(s\\) \\['overnight', 'full'\\]"):
        budget_settings({"smoke": {}, "quick": {}}, "quick")


def test_exercises_train_at_quick_except_in_ci():
    assert [exercise_budget(b) for b in ("smoke", "quick", "overnight", "full")] == ["smoke", "quick", "quick", "quick"]
