"""Recorded runs: training, atomic JSON, loading, tables."""

import json

import keras
import numpy as np
import pytest

from cifar_helpers import results as r
from cifar_helpers.split import split_validation


def tiny_model():
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_train_and_record_writes_the_run(tiny_cifar, capsys):
    split = split_validation(tiny_cifar, val_size=50)
    record, model = r.train_and_record(tiny_model, split, notebook="99_test", run="tiny", budget="smoke", epochs=2, batch_size=32)
    saved = json.loads((r.results_dir() / "smoke" / "99_test" / "tiny.json").read_text())
    assert saved == record
    assert len(saved["history"]["val_accuracy"]) == 2 and saved["train_size"] == 150
    assert 0.0 <= saved["test_accuracy"] <= 1.0 and saved["params"] == model.count_params()
    assert "tiny: test accuracy" in capsys.readouterr().out
    assert r.load_result("smoke", "99_test", "tiny") == saved
    assert [x["run"] for x in r.load_results("smoke")] == ["tiny"]


def test_uncompiled_model_is_refused(tiny_cifar):
    split = split_validation(tiny_cifar, val_size=50)
    with pytest.raises(ValueError, match="compiled"):
        r.train_and_record(lambda: keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten()]),
                           split, notebook="x", run="y", budget="smoke", epochs=1)


def test_missing_result_names_the_notebook_to_run():
    with pytest.raises(r.MissingResultError, match="Run notebooks/01_baseline_cnn.ipynb first with CIFAR_BUDGET=quick"):
        r.load_result("quick", "01_baseline_cnn", "baseline")


def test_one_hot_dataset_for_label_smoothing():
    images = np.zeros((4, 32, 32, 3), np.uint8)
    x, y = next(iter(r.make_dataset(images, np.arange(4), batch_size=4, num_classes=10)))
    assert y.shape == (4, 10) and x.dtype.name == "float32"


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    r.write_json_atomically(tmp_path / "a" / "run.json", {"x": 1})
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["run.json"]
    assert (tmp_path / "a" / "run.json").stat().st_mode & 0o777 == 0o644


def test_tables_render_every_run():
    record = {"budget": "quick", "notebook": "01_x", "label": "base", "test_accuracy": 0.6936,
              "epochs": 3, "train_size": 100, "wall_time_s": 12.3}
    rows = r.result_rows([record])
    assert rows == [("quick", "01_x", "base", "69.36%", 3, 100, "12")]
    assert r.markdown_table(r.RESULT_HEADERS, rows).splitlines()[2] == "| quick | 01_x | base | 69.36% | 3 | 100 | 12 |"
    assert r.text_table(r.RESULT_HEADERS, rows).splitlines()[1].split()[3] == "69.36%"
