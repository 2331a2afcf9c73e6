"""Quiet TensorFlow import, quoted references, and the summary's step table."""

import os
import subprocess
import sys

from cifar_helpers import references, summary
from cifar_helpers.results import result_path, write_json_atomically


def test_stderr_is_silenced_only_inside_the_block():
    script = ("import os; from cifar_helpers.quiet import stderr_silenced\n"
              "with stderr_silenced():\n    os.write(2, b'hidden\\n')\n"
              "os.write(2, b'shown\\n')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "hidden" not in done.stderr and "shown" in done.stderr


def test_log_level_is_set_unless_the_user_chose_one():
    script = "import os, cifar_helpers; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    for preset, expected in ((None, "3"), ("1", "1")):
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        if preset:
            env["TF_CPP_MIN_LOG_LEVEL"] = preset
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
        assert done.stdout.strip() == expected, done.stderr[-500:]


def test_every_article_step_with_a_number_is_quoted():
    quoted = set(references.ALL_QUOTED)
    assert all(step[4] in quoted for step in summary.ARTICLE_STEPS if step[4] is not None)
    assert 93.03 in quoted and 78.0 in quoted


def test_steps_table_shows_recorded_runs_and_marks_missing_ones():
    record = {"test_accuracy": 0.6936, "train_size": 10, "epochs": 1}
    write_json_atomically(result_path("quick", "01_baseline_cnn", "baseline"), record)
    table = summary.steps_markdown(["quick"])
    lines = table.splitlines()
    assert lines[0] == "| step | change | article (test) | ours, quick (test) |"
    assert lines[2].endswith("| 69.36% | 69.36% |")
    assert lines[3].endswith("| not run |")
    assert "91.55% (val)" in lines[-1]
