"""Recorded runs on disk, and the tables made from them."""

import pytest

from cifar_helpers import records, tables


def test_missing_result_names_the_notebook_to_run():
    with pytest.raises(records.MissingResultError, match="Run notebooks/01_baseline_cnn.ipynb first with CIFAR_BUDGET=quick"):
        records.load_result("quick", "01_baseline_cnn", "baseline")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    records.write_json_atomically(tmp_path / "a" / "run.json", {"x": 1})
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["run.json"]
    assert (tmp_path / "a" / "run.json").stat().st_mode & 0o777 == 0o644


def test_a_record_matches_only_on_every_setting(tmp_path):
    wanted = {key: 1 for key in records.MATCHED_FIELDS} | {"config": {"depth": 20}}
    path = tmp_path / "run.json"
    records.write_json_atomically(path, {**wanted, "test_accuracy": 0.5})
    assert records.matching_record(path, wanted)["test_accuracy"] == 0.5
    for key in records.MATCHED_FIELDS:
        assert records.matching_record(path, {**wanted, key: 2}) is None, key


def test_tables_render_every_run():
    record = {"budget": "quick", "notebook": "01_x", "label": "base", "test_accuracy": 0.6936,
              "epochs": 3, "train_size": 100, "wall_time_s": 12.3}
    rows = tables.result_rows([record])
    assert rows == [("quick", "01_x", "base", "69.36%", 3, 100, "12")]
    assert tables.markdown_table(tables.RESULT_HEADERS, rows).splitlines()[2] == "| quick | 01_x | base | 69.36% | 3 | 100 | 12 |"
    assert tables.text_table(tables.RESULT_HEADERS, rows).splitlines()[1].split()[3] == "69.36%"
