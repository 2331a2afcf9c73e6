"""Replace tests/test_lessons.py's overnight pins of the given notebooks with the drafted ones."""
import re, sys
from pathlib import Path
test = Path("tests/test_lessons.py"); new = Path(sys.argv[1]).read_text(); prefixes = sys.argv[2:]
text = test.read_text()
blocks = re.split(r"\n\n\n(?=def |@pytest)", text)
pattern = re.compile(r"(@pytest[^\n]*\n)*def test_overnight_(%s)_" % "|".join(prefixes))
kept, at = [], None
for block in blocks:
    if pattern.match(block):
        at = len(kept) if at is None else at
    else:
        kept.append(block)
kept.insert(at, new.strip())
text = "\n\n\n".join(kept)
text = text.replace("from cifar_helpers.noise import WITHIN_NOISE, compare, seed_spread, steps_yardstick",
                    "from cifar_helpers import noise\nfrom cifar_helpers.noise import WITHIN_NOISE, compare, read_at, seed_spread, steps_yardstick")
test.write_text(text.rstrip() + "\n")
