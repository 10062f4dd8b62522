"""The one lazy-loading helper: built once on first use, never pickled, replaceable."""

import pickle

from synthfilter.models import LazyModels, is_loaded, lazy


class Holder(LazyModels):
    builds = 0

    def __init__(self, name: str) -> None:
        self.name = name

    @lazy
    def model(self) -> dict:
        """A stand-in for a heavy model."""
        type(self).builds += 1
        return {"weights": [1.0] * 1000, "name": self.name}


def test_built_once_on_first_use_and_kept():
    Holder.builds = 0
    h = Holder("a")
    assert not is_loaded(h, "model") and Holder.builds == 0
    assert h.model is h.model and Holder.builds == 1 and is_loaded(h, "model")


def test_pickling_leaves_the_model_out_and_the_copy_loads_its_own():
    h = Holder("b")
    _ = h.model
    data = pickle.dumps(h)
    assert b"weights" not in data
    copy = pickle.loads(data)
    assert copy.name == "b" and not is_loaded(copy, "model")
    assert copy.model["name"] == "b"


def test_a_loaded_model_can_be_handed_over_and_forgotten():
    h = Holder("c")
    h.model = {"name": "shared"}
    assert h.model == {"name": "shared"}
    del h.model
    assert not is_loaded(h, "model") and h.model["name"] == "c"
    assert Holder.model.__doc__ == "A stand-in for a heavy model."
