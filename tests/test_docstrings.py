"""Every public class and function documents itself with a runnable example."""

import inspect

import pytest

import skgd
import skgd.losses
import skgd.optim
import skgd.plotting
import skgd.utils

PUBLIC = [
    getattr(module, name)
    for module in (skgd, skgd.losses, skgd.optim, skgd.plotting, skgd.utils)
    for name in getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")])
    if inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))
]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda obj: f"{obj.__module__}.{obj.__qualname__}")
def test_public_objects_have_numpydoc_sections_with_examples(obj):
    doc = inspect.getdoc(obj)
    assert doc, "no docstring"
    assert "Examples\n--------\n" in doc, "no Examples section"
    assert ">>> " in doc.split("Examples\n--------\n", 1)[1], "no doctest in Examples"
    if inspect.isfunction(obj) or obj.__init__ is not object.__init__:
        skipped = ("self", "args", "kwargs")
        params = [p for p in inspect.signature(obj).parameters if p not in skipped]
        if params:
            assert "Parameters\n----------" in doc
            for param in params:
                assert f"{param} :" in doc, f"parameter {param} undocumented"


def test_the_list_covers_the_api():
    names = {obj.__qualname__ for obj in PUBLIC}
    assert {"GDRegressor", "GDClassifier", "Loss", "Optimizer", "ConvergenceDisplay"} <= names
    assert len(PUBLIC) >= 29
