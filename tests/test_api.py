"""The public API is exactly what __all__ says, sorted, and every name resolves."""

import samestory


def test_all_is_sorted_and_unique():
    names = [n for n in samestory.__all__ if n != "__version__"]
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    assert len(set(samestory.__all__)) == len(samestory.__all__)


def test_every_exported_name_exists():
    for name in samestory.__all__:
        assert hasattr(samestory, name), name


def test_no_public_name_is_left_out():
    public = {
        n
        for n, v in vars(samestory).items()
        if not n.startswith("_") and not isinstance(v, type(samestory))
    }
    assert public <= set(samestory.__all__), sorted(public - set(samestory.__all__))
