"""Quiet TensorFlow import, quoted references, and the summary's step table."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_helpers import references, summary
from cifar_helpers.records import result_path, write_json_atomically


def test_stderr_is_silenced_only_inside_the_block():
    script = ("import os; from cifar_helpers.quiet import stderr_silenced\n"
              "with stderr_silenced():\n    os.write(2, b'hidden\\n')\n"
              "os.write(2, b'shown\\n')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "hidden" not in done.stderr and "shown" in done.stderr


def test_log_level_is_set_unless_the_user_chose_one():
    pytest.importorskip("tensorflow")
    script = "import os, cifar_helpers; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    for preset, expected in ((None, "3"), ("1", "1")):
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"KERAS_BACKEND": "tensorflow"}
        if preset:
            env["TF_CPP_MIN_LOG_LEVEL"] = preset
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
        assert done.stdout.strip() == expected, done.stderr[-500:]


SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source texts (../shared/seeds) are not beside this checkout")
def test_quoted_article_numbers_are_the_sources_own():
    article = next(SEEDS.glob("000_*.txt")).read_text()
    for value in (*references.ARTICLE_TEST_ACCURACY.values(), references.ARTICLE_RESNET56_VALIDATION):
        assert f"{value:.2f}%" in article, value
    thread = next(SEEDS.glob("002_*.txt")).read_text()
    for value in references.STACK_EXCHANGE.values():
        assert f"{value:.0f} %" in thread, value


def test_each_article_step_quotes_the_articles_number_for_that_step():
    quoted = {step[2]: step[4] for step in summary.ARTICLE_STEPS}
    assert quoted["01_baseline_cnn"] == 69.36 and quoted["04_learning_rate_schedule"] == 86.24
    assert quoted["05_deeper_plain_networks"] is None and quoted["06_residual_networks"] == 91.55


def test_steps_table_shows_recorded_runs_and_marks_missing_ones():
    record = {"test_accuracy": 0.6936, "train_size": 10, "epochs": 1}
    write_json_atomically(result_path("quick", "01_baseline_cnn", "baseline"), record)
    table = summary.steps_markdown(["quick"])
    lines = table.splitlines()
    assert lines[0] == "| step | change | article (test) | ours, quick (test) |"
    assert lines[2].endswith("| 69.36% | 69.36% |")
    assert lines[3].endswith("| not run |")
    assert "91.55% (val)" in lines[-1]
