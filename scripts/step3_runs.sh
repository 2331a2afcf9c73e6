#!/usr/bin/env bash
# The long runs of steps 1-4 at `overnight` (issue: the article's step 3 shows), one stage at a time, trained
# ahead of notebooks 01-04 with their own code (scripts/train_runs.py), each record committed as it lands:
#   nohup scripts/step3_runs.sh pilot > logs/step3.log 2>&1 &
# Run it from a second worktree (a stable copy of the code) with CIFAR_RESULTS_DIR pointing at the pending-results/
# folder of the checkout whose git gets the records (scripts/train_in_background.sh says why). The records wait
# there, committed, until their notebook is re-executed on them: then they move to results/ (git mv), and the
# notebook's outputs and the generated pages change together.
set -uo pipefail
cd "$(dirname "$0")/.."
stage=${1:?usage: scripts/step3_runs.sh pilot|pilot-step2|pilot-article-decay|seeds|...|chain|...}  # a stage, or where in it to start
python=${PYTHON:-.venv/bin/python}
results=${CIFAR_RESULTS_DIR:-$PWD/pending-results}
NB03=notebooks/03_model_improvements.ipynb
NB01=notebooks/01_baseline_cnn.ipynb
NB02=notebooks/02_data_augmentation.ipynb
NB04=notebooks/04_learning_rate_schedule.ipynb
RUN03='ch.train_and_record(builder(switches), split, notebook=NOTEBOOK, run=run, label=label, budget=budget,
    epochs=cfg.epochs, strategy=strategy, test_each_epoch=cfg.test_each_epoch,
    config={"pipeline": pipeline, "switches": switches, "bn_momentum": ch.models.BN_MOMENTUM})'
RUN02='ch.train_and_record(builder(EXPERIMENTS[run]), split, notebook=NOTEBOOK, run=run, budget=budget,
    epochs=cfg.epochs, strategy=strategy, config={"pipeline": EXPERIMENTS[run]}, test_each_epoch=cfg.test_each_epoch)'

train() {  # train NOTEBOOK CELLS STATEMENT...: one process; commits each new record while it trains
    echo "$(date +%T) start: $1 ${*:3}"
    CIFAR_RESULTS_DIR="$results" nice -n 5 "$python" scripts/train_runs.py "$1" --budget overnight --cells "$2" \
        "${@:3}" &
    local runner=$!
    while kill -0 "$runner" 2>/dev/null; do sleep 60; CIFAR_RESULTS_DIR="$results" PYTHON="$python" scripts/commit_records.sh overnight; done
    wait "$runner"; local status=$?
    CIFAR_RESULTS_DIR="$results" PYTHON="$python" scripts/commit_records.sh overnight
    echo "$(date +%T) exit $status"
}

run03() {  # run03 RUN LABEL SWITCHES
    train "$NB03" 2,4,6 --run "run, label, switches = '$1', '$2', $3" --run "$RUN03"
}

ARTICLE=1e-4/256  # the article's penalty in Keras' terms (it sums the loss over the batch and adds 1e-4 * sum(w^2) / 2)
seed02() {  # seed02 SEED: 02's combined run again with another seed
    train "$NB02" 2,6 --run "first = ch.load_result(budget, NOTEBOOK, 'crop+flip+whiten')" \
        --run "ch.train_more_seeds(builder(EXPERIMENTS['crop+flip+whiten']), split, first, seeds=($1,), strategy=strategy)"
}
seed03() {  # seed03 SEED: 03's final net (the article's penalty) again with another seed
    train "$NB03" 2,4,6 --run "first = ch.load_result(budget, NOTEBOOK, 'LRN')" \
        --run "ch.train_more_seeds(builder(first['config']['switches']), split, first, seeds=($1,), strategy=strategy)"
}

case "$stage" in
    pilot)  # the step-3 net at today's penalty (10 epochs of it: the bf16 parity check), step 2, the article's penalty
        run03 LRN "+LRN" 'STEPS["+LRN"]'
        ;&
    pilot-step2)
        train "$NB02" 2,6 --run "run = 'crop+flip+whiten'" --run "$RUN02"
        ;&
    pilot-article-decay)
        run03 LRN_article_decay "+LRN, weight decay 1e-4 / 256" '{**STEPS["+LRN"], "weight_decay": 1e-4 / 256}'
        ;;  # the pilot's gap, last 5 epochs' validation mean over step 2: +4.07 (article's penalty), +2.11 (Keras' 1e-4)
            # -> the article's penalty is the main path (LRN_article_decay became LRN, the other LRN_decay_1e-4)
    seeds)  # seeds 1 and 2 of step 2 and of step 3's chosen net, interleaved so a cut-off leaves both half done
        seed02 1
        ;&
    seeds-step3-1)
        seed03 1
        ;&
    seeds-step2-2)
        seed02 2
        ;&
    seeds-step3-2)
        seed03 2
        ;&
    chain)  # the cumulative chain at the article's penalty, one seed each (its +LRN is the pilot's run)
        run03 weight_decay "+weight decay" "dict(weight_decay=$ARTICLE)"
        ;&
    chain-dropout)
        run03 dropout "+dropout" "dict(weight_decay=$ARTICLE, dropout=0.5)"
        ;&
    chain-batch-norm)
        run03 batch_norm "+batch norm" "dict(weight_decay=$ARTICLE, dropout=0.5, batch_norm=True)"
        ;;
    baseline)  # step 1 (01) at the chain's length; it lends its epochs to the longer run, which trains on from there
        train "$NB01" 2,4,8 --run "from scripts.branch import BranchAt, settings_of" \
            --run "longer = dict(budget=budget, epochs=cfg.long_epochs, batch_size=128, strategy=strategy,
                test_each_epoch=cfg.test_each_epoch)" \
            --run "ch.train_and_record(build_baseline, split, notebook=NOTEBOOK, run='baseline', budget=budget,
                epochs=cfg.epochs, batch_size=128, strategy=strategy, test_each_epoch=cfg.test_each_epoch,
                callbacks=[BranchAt(cfg.epochs, budget=budget, notebook=NOTEBOOK, trunk='baseline',
                    branch='baseline_long', branch_settings=settings_of(build_baseline, split, config=None, **longer))])" \
            --run "ch.train_and_record(build_baseline, split, notebook=NOTEBOOK, run='baseline_long',
                label=f'baseline, {cfg.long_epochs} epochs', needs_model=True, **longer)"
        ;&
    step2-long)  # 02's combined front end as long as 01's longer run (before 04: then 01-03 re-execute together)
        train "$NB02" 2,6 --run "combined = EXPERIMENTS['crop+flip+whiten']" \
            --run "ch.train_and_record(builder(combined), split, notebook=NOTEBOOK, run='crop+flip+whiten_long',
                label=f'crop+flip+whiten, {cfg.long_epochs} epochs', budget=budget, epochs=cfg.long_epochs,
                strategy=strategy, config={'pipeline': combined}, test_each_epoch=cfg.test_each_epoch)"
        ;&
    schedules)  # step 4 (04): constant 0.01 lends its first 17 epochs to the article's schedule, which lends its
                # first 34 to the one-drop run (scripts/branch.py); the same drops from 03's rate train whole
        train "$NB04" 2,4,6,9 --run "from scripts.branch import BranchAt, settings_of" \
            --run "fork = lambda epoch, trunk, branch: BranchAt(epoch, budget=budget, notebook=NOTEBOOK,
                trunk=f'schedule_{trunk}', branch=f'schedule_{branch}',
                branch_settings=settings_of(builder(SCHEDULES[list(RATES)[branch]]), split, **schedule_run(branch)))" \
            --run "train = lambda index, *forks: ch.train_and_record(builder(SCHEDULES[list(RATES)[index]]), split,
                **schedule_run(index), callbacks=list(forks))" \
            --run "train(0, fork(first_drop, 0, 2)); train(2, fork(second_drop, 2, 1)); train(1); train(3)"
        ;;
    *) echo "unknown stage $stage"; exit 2 ;;
esac
