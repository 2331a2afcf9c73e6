"""Quiet TensorFlow import, quoted references, and the summary's step table."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_helpers import references
from cifar_helpers.machinery import summary
from cifar_helpers.records import result_path, write_json_atomically


def test_stderr_is_silenced_only_inside_the_block():
    script = (
        "import os; from cifar_helpers.quiet import stderr_silenced\n"
        "with stderr_silenced():\n    os.write(2, b'hidden\\n')\n"
        "os.write(2, b'shown\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "hidden" not in done.stderr and "shown" in done.stderr


def test_only_jaxs_int64_truncation_warning_is_hidden():
    import warnings

    from cifar_helpers.quiet import hide_jax_int64_warning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hide_jax_int64_warning()
        warnings.warn("Explicitly requested dtype int64 requested in ShapeDtypeStruct is not available", UserWarning)
        warnings.warn("something else", UserWarning)
    assert [str(w.message) for w in caught] == ["something else"]


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
    quoted = {step.notebook: (step.article, step.article_metric) for step in summary.ARTICLE_STEPS}
    assert quoted["01_baseline_cnn"] == (69.36, "test") and quoted["04_learning_rate_schedule"] == (86.24, "test")
    assert quoted["05_deeper_plain_networks"][0] is None and quoted["06_residual_networks"] == (91.55, "validation")


def record(notebook, run, accuracy, train_size=8000, epochs=20, budget="quick", **extra):
    """Write a minimal recorded run and return it."""
    payload = {
        "notebook": notebook,
        "run": run,
        "label": run.upper(),
        "budget": budget,
        "test_accuracy": accuracy,
        "train_size": train_size,
        "epochs": epochs,
        "wall_time_s": 60.0,
        "data_source": "JPEG image-folder copy",
        "finished": f"2026-01-01T00:00:{len(run):02d}+00:00",
        "history": {"val_accuracy": [accuracy - 0.01, accuracy]},
    } | extra
    write_json_atomically(result_path(budget, notebook, run), payload)
    return payload


def test_runs_compare_only_within_one_budget_network_family_and_training():
    step3, step4 = record("03_model_improvements", "LRN", 0.68), record("04_learning_rate_schedule", "schedule_2", 0.70)
    plain = record("05_deeper_plain_networks", "plain8", 0.5, 6000, 8)
    resnet = record("06_residual_networks", "resnet20", 0.4, 6000, 8)
    assert summary.comparable(step3, step4)
    assert not summary.comparable(step4, plain) and "different networks" in summary.why_not_comparable(plain, step4)
    why = summary.why_not_comparable(plain, step4)
    assert "different training (6,000 images x 8 epochs vs 8,000 images x 20 epochs)" in why
    assert summary.why_not_comparable(resnet, plain) == "different networks (ResNets vs plain nets)"
    assert not summary.comparable(step4, step4 | {"budget": "full"})
    assert not summary.comparable(step4, step4 | {"epochs": 60})
    assert not summary.comparable(step4, step4 | {"data_source": "official archive"})
    assert not summary.comparable(step4, step4 | {"notebook": "07_stuck_at_60_percent"})


def test_steps_table_shows_the_best_run_of_a_step_and_marks_missing_ones():
    record("01_baseline_cnn", "baseline", 0.6936, 10, 1)
    for run, accuracy in (("resnet20", 0.43), ("resnet32", 0.61), ("resnet56", 0.22)):
        record("06_residual_networks", run, accuracy, 6000, 8)
    record(
        "06_residual_networks", "resnet44", 0.70, 6000, 8, history={"val_accuracy": [0.3, 0.4]}
    )  # best test, not best val
    lines = summary.steps_markdown(["quick"]).splitlines()
    assert lines[0] == "| step | change | article | ours, quick: run (images x epochs) | ours, quick (test) |"
    assert lines[2].endswith("| 69.36% (test) | BASELINE (10 x 1) | 69.36% |")
    assert lines[3].endswith("| not run | - |")
    assert lines[-1].endswith("| 91.55% (validation) | RESNET32, best of 4 (6,000 x 8) | 61.00% |")


def test_steps_table_counts_only_the_runs_a_budget_recorded():
    for run, accuracy in (("resnet20", 0.43), ("resnet32", 0.61), ("resnet56", 0.22)):  # no ResNet-44, as at quick
        record("06_residual_networks", run, accuracy, 4000, 8)
    assert summary.steps_markdown(["quick"]).splitlines()[-1].endswith("| RESNET32, best of 3 (4,000 x 8) | 61.00% |")


def test_gains_only_between_comparable_steps_with_a_footnote_why():
    for i, (notebook, run) in enumerate(
        (
            ("01_baseline_cnn", "baseline"),
            ("02_data_augmentation", "crop+flip+whiten"),
            ("03_model_improvements", "LRN"),
            ("04_learning_rate_schedule", "schedule_2"),
        )
    ):
        record(notebook, run, 0.55 + 0.05 * i)
    record("05_deeper_plain_networks", "plain8", 0.5, 6000, 8)
    record("06_residual_networks", "resnet20", 0.4, 6000, 8)
    table = summary.gains_markdown("quick")
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in table.splitlines() if line.startswith("| ")}
    assert rows["1 baseline"][4] == "-" and rows["2 augmentation"][4] == "+5.00" and rows["4 schedule"][4] == "+5.00"
    assert rows["5 deeper plain"][4] == "- (1)" and rows["6 ResNet"][4] == "- (2)"
    assert "(1) 5 deeper plain is not compared with 4 schedule: different networks" in table
    assert "(2) 6 ResNet is not compared with 5 deeper plain: different networks (ResNets vs plain nets)." in table
    assert rows["2 augmentation"][5] == "-", "no seeds recorded: no yardstick, no verdict"


def test_a_step_gain_is_judged_on_means_of_seeds_against_the_article_cnns_yardstick():
    record("01_baseline_cnn", "baseline", 0.60)
    for run, accuracy, seed in (
        ("crop+flip+whiten", 0.64, 0),
        ("crop+flip+whiten_seed1", 0.65, 1),
        ("crop+flip+whiten_seed2", 0.66, 2),
    ):
        record("02_data_augmentation", run, accuracy, seed=seed, params=1)
    record("03_model_improvements", "LRN", 0.66)
    rows = {
        line.split(" | ")[0][2:]: line.split(" | ")
        for line in summary.gains_markdown("quick").splitlines()
        if line.startswith("| ")
    }
    assert (
        rows["2 augmentation"][5] == "yes (+5.00 pts; band 2.00: CROP+FLIP+WHITEN, 3 seeds); one seed"
    )  # the baseline
    assert rows["3 model"][5] == "within noise (+1.00 pts; band 2.00: CROP+FLIP+WHITEN, 3 seeds); one seed"


def test_steps_are_named_as_spans_and_trainings_grouped():
    steps = summary.ARTICLE_STEPS
    assert summary.step_span(steps[:4]) == "steps 1-4" and summary.step_span(steps[5:]) == "step 6"
    assert summary.step_span([steps[0], steps[1], steps[3]]) == "steps 1, 2, 4"
    record("01_baseline_cnn", "baseline", 0.55)
    record("05_deeper_plain_networks", "plain8", 0.5, 6000, 8)
    trained = summary.trainings(summary.step_records("quick"))
    assert trained == "8,000 images x 20 epochs (step 1); 6,000 images x 8 epochs (step 5)"


def test_steps_chart_has_bars_per_step_and_no_line_between_steps():
    import matplotlib

    matplotlib.use("Agg")
    record("01_baseline_cnn", "baseline", 0.55)
    record("06_residual_networks", "resnet20", 0.4, 6000, 8)
    ax = summary.plot_steps(["quick", "full"]).axes[0]
    assert all(len(set(line.get_xdata())) == 1 for line in ax.lines), "only vertical separators may be lines"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[1] == "article, validation accuracy (step 6)"
    assert legend[2].startswith("ours, quick, test accuracy: 8,000 images") and not any("full" in t for t in legend)
    assert "best validation accuracy" in ax.get_title()  # which run stands for steps 5-6
    assert ax.get_xlabel() and ax.get_ylabel() == "accuracy (%)"
    heights = sorted(round(bar.get_height(), 2) for bar in ax.patches)
    assert heights == sorted([69.36, 80.42, 85.72, 86.24, 91.55, 55.0, 40.0])
    values = [text.get_text() for text in ax.texts]
    assert values == ["69.36", "80.42", "85.72", "86.24", "91.55", "55.0", "40.0"], (
        "the article's bars carry their numbers too"
    )


def test_steps_chart_says_each_steps_bars_and_where_families_part():
    import matplotlib

    matplotlib.use("Agg")
    from cifar_helpers.figure_text import description

    record("01_baseline_cnn", "baseline", 0.55)
    record("06_residual_networks", "resnet20", 0.4, 6000, 8)
    text = description(summary.plot_steps(["quick", "full"]))
    assert text.startswith("Bars of accuracy (%) for each of the article's 6 steps: the article's number beside our ")
    assert (
        "test accuracy under quick. 1 baseline: article 69.36 (test), quick 55.0; 2 augmentation: article 80.42" in text
    )
    assert "5 deeper plain: no article number, quick not run; 6 ResNet: article 91.55 (validation), quick 40.0." in text
    assert "(steps 1-4: the article's CNN, step 5: plain nets, step 6: ResNets); bars are not compared across" in text
    record("01_baseline_cnn", "baseline", 0.6)
    assert "1 baseline: article 69.36 (test), quick 60.0;" in description(summary.plot_steps(["quick"]))


def test_a_notebook_shows_its_runs_under_the_other_budgets_beside_its_own():
    cpu = "Backend: tensorflow; devices: CPU only (2 cores); strategy: default (one device) x1; precision: float32"
    gpu = "Backend: jax; devices: 1 GPU(s): NVIDIA H100 80GB HBM3; strategy: DataParallel x1; precision: mixed_bfloat16"
    record(
        "06_residual_networks",
        "resnet56",
        0.4053,
        4000,
        8,
        device=cpu,
        backend="tensorflow",
        history={"val_accuracy": [0.3, 0.4125, 0.41]},
    )
    record(
        "06_residual_networks",
        "resnet20",
        0.5198,
        4000,
        8,
        device=cpu,
        backend="tensorflow",
        finished="2026-01-01T00:00:00+00:00",
    )  # trained first: listed first
    record("05_deeper_plain_networks", "plain8", 0.49, 4000, 8, device=cpu, backend="tensorflow")
    record("06_residual_networks", "resnet56", 0.89, 45000, 50, budget="full", device=gpu, backend="jax")
    quick_table = summary.beside_table("06_residual_networks", "quick").splitlines()
    assert quick_table[0] == (
        "**On 2 CPU cores with the `quick` budget (training subsets, for a class on laptops)** "
        "you should see (`results/quick/`):"
    )
    assert [line.split(" | ")[0] for line in quick_table[4:]] == [
        "| RESNET20",
        "| RESNET56",
    ]  # 05's plain run is not 06's
    assert quick_table[5] == (
        "| RESNET56 | 4,000 images x 8 epochs | 40.53% | 41.25% | 1.0 min | CPU only (2 cores), tensorflow |"
    )
    no_overnight = "*No run of this notebook is recorded on 2 CPU cores with the `overnight` budget (all 45,000"
    beside_full = summary.beside_markdown("06_residual_networks", "full")
    assert beside_full.startswith(no_overnight) and beside_full.endswith("\n".join(quick_table))
    beside_quick = summary.beside_markdown("06_residual_networks", "quick")
    assert beside_quick.startswith("**On one GPU with the `full` budget**") and no_overnight in beside_quick
    assert "| 45,000 images x 50 epochs | 89.00% |" in beside_quick and "NVIDIA H100 80GB HBM3, jax |" in beside_quick
    beside_overnight = summary.beside_markdown("06_residual_networks", "overnight")
    assert beside_overnight.startswith("**On one GPU") and beside_overnight.endswith("\n".join(quick_table))
    assert summary.beside_markdown("06_residual_networks", "smoke").count("you should see") == 2  # CI: every budget
    assert summary.beside_markdown("05_deeper_plain_networks", "quick").startswith(
        "*No run of this notebook is recorded on one GPU with the `full` budget yet (docs/offline-gpu.md: "
        '"A GPU machine without internet")'
    )
    assert summary.hardware({}) == "not recorded"
