"""Recorded runs on disk, and the tables made from them."""

import pytest

from cifar_helpers import records
from cifar_helpers.machinery import matching, tables


def test_missing_result_names_the_notebook_to_run():
    with pytest.raises(
        records.MissingResultError, match="Run notebooks/01_baseline_cnn.ipynb first with CIFAR_BUDGET=quick"
    ):
        records.load_result("quick", "01_baseline_cnn", "no_such_run")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    records.write_json_atomically(tmp_path / "a" / "run.json", {"x": 1})
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["run.json"]
    assert (tmp_path / "a" / "run.json").stat().st_mode & 0o777 == 0o644


def test_a_record_stands_in_only_when_no_setting_differs():
    wanted = {key: 1 for key in matching.MATCHED_FIELDS}
    assert matching.differences({**wanted, "test_accuracy": 0.5}, wanted) == []
    for key in matching.MATCHED_FIELDS:
        assert matching.differences(wanted, {**wanted, key: 2}) == [f"{key} 1 -> 2"], key
    wanted["config"] = {"depth": 20}
    assert matching.differences(wanted, {**wanted, "config": {"depth": 56}}) == [
        'config {"depth": 20} -> {"depth": 56}'
    ]


def test_fingerprints_are_compared_only_where_the_record_has_one():
    wanted = {key: 1 for key in matching.MATCHED_FIELDS}
    built = {**wanted, "fingerprint": {"network": "a", "optimizer": {"learning_rate": 0.01}}}
    assert matching.differences(wanted, built) == []  # recorded before fingerprints existed
    stamped = {**wanted, "fingerprint": {"network": "a", "optimizer": {"learning_rate": 0.001}}}
    assert matching.differences(stamped, built) == ["optimizer learning_rate 0.001 -> 0.01"]


def test_own_records_are_read_first_and_committed_ones_otherwise(tmp_path, monkeypatch):
    committed, own = tmp_path / "committed", tmp_path / "own"
    monkeypatch.setattr(records, "committed_results_dir", lambda: committed)
    monkeypatch.setenv("CIFAR_RESULTS_DIR", str(own))
    base = {"budget": "quick", "notebook": "01_x", "finished": "1"}
    records.write_json_atomically(committed / "quick" / "01_x" / "a.json", {**base, "run": "a", "who": "committed"})
    records.write_json_atomically(committed / "quick" / "01_x" / "b.json", {**base, "run": "b", "who": "committed"})
    assert records.load_result("quick", "01_x", "a")["who"] == "committed"
    records.write_json_atomically(records.result_path("quick", "01_x", "a"), {**base, "run": "a", "who": "own"})
    assert records.result_path("quick", "01_x", "a").is_relative_to(own)
    assert records.load_result("quick", "01_x", "a")["who"] == "own"
    assert sorted((r["run"], r["who"]) for r in records.load_results("quick")) == [("a", "own"), ("b", "committed")]


def test_tables_render_every_run():
    record = {
        "budget": "quick",
        "notebook": "01_x",
        "label": "base",
        "test_accuracy": 0.6936,
        "epochs": 3,
        "train_size": 100,
        "wall_time_s": 12.3,
    }
    rows = tables.result_rows([record])
    assert rows == [("quick", "01_x", "base", "69.36%", 3, 100, "12")]
    assert (
        tables.markdown_table(tables.RESULT_HEADERS, rows).splitlines()[2]
        == "| quick | 01_x | base | 69.36% | 3 | 100 | 12 |"
    )
    assert tables.text_table(tables.RESULT_HEADERS, rows).splitlines()[1].split()[3] == "69.36%"
