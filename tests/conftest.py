import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"

_HUMANISH = ("ok so i think the bus was late again lol and my coffee got cold but whatever "
             "we went to the lake kids screamed water freezing honestly best day gutted lost "
             "penalties keeper saved two nobody expected fixed config tab three hours").split()
_AIISH = ("furthermore it is important to note that comprehensive innovative solutions foster "
          "seamless collaboration enhance productivity navigate complex challenges overall "
          "multifaceted landscape crucial pivotal ensure robust sustainable future").split()


def make_texts(n: int, kind: str, seed: int = 0) -> list[str]:
    """Small generated corpus: two styles with different vocabularies and punctuation."""
    rng = random.Random(f"{kind}:{seed}")
    vocab = _HUMANISH if kind == "human" else _AIISH
    out = []
    for _ in range(n):
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = [rng.choice(vocab) for _ in range(rng.randint(4, 14))]
            end = rng.choice(["!", ".", "?", "..."]) if kind == "human" else "."
            sentences.append(" ".join(words).capitalize() + end)
        out.append(" ".join(sentences))
    return out


@pytest.fixture(scope="session")
def small_corpus():
    human = make_texts(150, "human")
    ai = make_texts(150, "ai")
    return human, ai


def require_shared_data(sub: str) -> Path:
    path = DATA_DIR / sub
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (tests that read ../shared/data skip without it)")
    return path
