"""dedup's outputs on a fixed corpus stay byte for byte what they were (speed work guard).

The digests were taken from the outputs before the stage-1 speed work (sorted shingle sets,
merge verification); a faster path must find the very same pairs, clusters and kept records.
Regenerate only for a deliberate change of answers: ``python tests/test_dedup_golden.py``.
"""

import hashlib
import json
import sys

from dedup_fixtures import STORIES, edit_words, replace_at

from samestory import dedup

GOLDEN = {
    "pairs.jsonl": "aecf5d80509d17373ede0529d5fa0e01b1a8f0c8a49abc8ff9aa1054fbfb496c",
    "clusters.jsonl": "b254133f48cbba9accb6dbdd2feded7222845bedd8252e737a2f0b4464cd06f6",
    "kept.jsonl": "95108f8a4890035abd53246ac08e7695fc7f1b5bdb099cb9b21e76db476f0a02",
}


def _texts() -> list[str]:
    """~400 texts: planted near-copies at many edit rates, scraping debris, repeated phrases
    (shingles that occur twice in one text), non-ASCII words, and very short texts."""
    texts = []
    for k, story in enumerate(STORIES):
        texts.append(story)
        for every in range(6, 40, 2):
            texts.append(edit_words(story, every, word=f"w{k}"))
        for n in range(1, 12):
            texts.append(replace_at(story, list(range(3, 3 + 4 * n, 4)), word="grey"))
        twice = story + " " + " ".join(story.split()[:30])
        texts.append(twice)
        texts.append(twice + " " + " ".join(story.split()[:30]))
        texts.append("PARIS (AFP) - " + story.replace("the", "the-\nthe") + "\nShare this article")
        texts.append(story.replace("a", "á", 3) + " Ça été l'été, straße")
        texts.append(" ".join(story.split()[:4]))
    texts += ["one", "one", "two words", "Two words!", "x " * 3]
    return texts


def _run(folder) -> dict[str, str]:
    rows = [
        {"id": f"g{i:04d}", "text": t, "date": f"2021-02-{1 + i % 28:02d}"}
        for i, t in enumerate(_texts())
    ]
    src = folder / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    dedup([src], out=folder / "out", jobs=1, chunk_size=97, progress=False)
    return {
        name: hashlib.sha256((folder / "out" / name).read_bytes()).hexdigest() for name in GOLDEN
    }


def test_outputs_are_unchanged(tmp_path):
    assert _run(tmp_path) == GOLDEN


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        json.dump(_run(Path(tmp)), sys.stdout, indent=4)
