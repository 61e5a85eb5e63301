"""Every JSON body the API takes refuses fields it does not know: a misspelt field (`color`
for `colour`) is answered with an error naming it, never silently ignored."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import fluffymail.web.api as api


def _input_models() -> list[type[BaseModel]]:
    found = []
    for module_info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"{api.__name__}.{module_info.name}")
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseModel)
                and obj.__module__ == module.__name__
                and name.endswith("In")
            ):
                found.append(obj)
    return found


def test_every_input_model_forbids_unknown_fields() -> None:
    models = _input_models()
    assert len(models) > 20  # the walk found the API's bodies
    lax = [m.__qualname__ for m in models if m.model_config.get("extra") != "forbid"]
    assert lax == []
