#!/usr/bin/env bash
# Land 01-04's 60-epoch records and notebooks (run at the checkout's root). Records first, then notebooks.
set -euo pipefail
for budget in overnight quick; do
  [ -d pending-results/$budget ] || continue
  (cd pending-results/$budget && find . -name '*.json' | sort) | while read -r f; do
    mkdir -p "results/$budget/$(dirname "$f")"; git mv -f "pending-results/$budget/$f" "results/$budget/$f"
  done
done
git rm -q --ignore-unmatch results/overnight/03_model_improvements/LRN_article_decay.json \
  results/quick/03_model_improvements/exercise_weight_decay_article.json
for n in "$@"; do git mv -f notebooks/pending/${n}_*.ipynb notebooks/; done
