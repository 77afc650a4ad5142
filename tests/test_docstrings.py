"""The examples in the docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import samestory

# modules whose examples need an optional extra, with the module that extra provides
_NEEDS = {
    "samestory.engines.spark": "pyspark",
    "samestory.engines.spark_components": "pyspark",
    "samestory.engines.spark_input": "pyspark",
    "samestory.engines.spark_output": "pyspark",
    "samestory.entities": "spacy",
    "samestory.web.app": "fastapi",
}
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(samestory.__path__, "samestory.") if not m.ispkg
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name in _NEEDS:
        pytest.importorskip(_NEEDS[name], reason=f"{name} needs an optional extra")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
