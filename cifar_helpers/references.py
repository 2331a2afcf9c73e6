"""Numbers quoted from the sources, in one place, so notebooks and tests use the same ones."""

# The article (seeds/000): test accuracy (%) after each step, 5,000 (steps 1-3) or 500 epochs.
ARTICLE_TEST_ACCURACY = {
    "baseline": 69.36,
    "augmentation": 80.42,
    "model_improvements": 85.72,
    "lr_schedule": 86.24,
}
ARTICLE_RESNET56_VALIDATION = 91.55  # stated as validation accuracy of ResNet-56

# The article's own per-epoch logs (persistforever/cifar10-tensorflow, exps/cifar10-v2 and v6-v9, read in
# shared/reviews/2026-12-06-step3-recipe.md, section 3): points of validation accuracy (5,000 images, the mean of
# the 5 epochs ending at each epoch, one run each) that step 3's additions gain, by the article's epoch.
ARTICLE_STEP3_GAINS = {
    "step 3 over step 2": {10: 0.6, 20: 1.8, 30: 2.6, 40: 3.3, 50: 4.2},
    "batch norm over +dropout": {10: 1.1, 20: 2.4, 30: 2.2, 40: 2.7, 50: 2.7},
    "dropout over +weight decay": {10: -0.9, 20: -1.2, 30: -0.7, 40: -0.5, 50: -0.3},
}

# He et al. 2015, CIFAR-10 test error (%) of ResNet-20/32/44/56.
HE_2015_TEST_ERROR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97}

# The Stack Exchange thread (seeds/002): the asker's plateau and answer 1's claimed test accuracies.
STACK_EXCHANGE = {"asker_plateau_validation": 60.0, "answer1_strided": 78.0, "answer1_small": 70.0}


# airbench94 (Keller Jordan's speedrun, PyTorch): 94.01% mean on the official files (its paper); three
# runs on this project's JPEG copy on one H200 (measured for the project) gave the numbers below.
AIRBENCH94_OFFICIAL = 94.01
AIRBENCH94_JPEG_RUNS = (90.63, 90.64, 90.91)
JPEG_COPY_PENALTY = round(AIRBENCH94_OFFICIAL - sum(AIRBENCH94_JPEG_RUNS) / len(AIRBENCH94_JPEG_RUNS), 1)

ALL_QUOTED = sorted(
    set(ARTICLE_TEST_ACCURACY.values())
    | {ARTICLE_RESNET56_VALIDATION}
    | set(STACK_EXCHANGE.values())
    | {round(100 - e, 2) for e in HE_2015_TEST_ERROR.values()}
    | set(HE_2015_TEST_ERROR.values())
    | {AIRBENCH94_OFFICIAL, *AIRBENCH94_JPEG_RUNS}
)
