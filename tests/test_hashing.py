import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from synthfilter.hashing import hash64, hash_keys, uniform


@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=50), st.integers(0, 2**32))
def test_vectorised_integer_hash_equals_scalar(keys, seed):
    vec = hash_keys(np.asarray(keys, dtype=np.int64), seed)
    assert [int(v) for v in vec] == [hash64(seed, k) for k in keys]
    assert [int(v) for v in hash_keys(keys, seed)] == [hash64(seed, k) for k in keys]


def test_string_hash_is_deterministic_and_seeded():
    assert hash64(0, "abc") == hash64(0, "abc")
    assert hash64(0, "abc") != hash64(1, "abc")
    assert hash64(0, "abc") != hash64(0, "abd")
    assert [int(x) for x in hash_keys(["a", "b"], 3)] == [hash64(3, "a"), hash64(3, "b")]


def test_uniform_is_roughly_uniform():
    u = np.array([uniform(7, i) for i in range(20000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    hist, _ = np.histogram(u, bins=10, range=(0, 1))
    assert hist.min() > 1800
