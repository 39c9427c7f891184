"""The SDK's public surface: ``__all__`` is exactly what it exports, and all of it resolves."""

from __future__ import annotations

import inspect

import scelle.client
from scelle.client import api, keyring, pins, receipts, state, transfer, tus


def test_all_lists_importable_public_names() -> None:
    assert sorted(scelle.client.__all__) == scelle.client.__all__
    for name in scelle.client.__all__:
        assert getattr(scelle.client, name) is not None


def test_every_module_all_resolves_and_is_documented() -> None:
    for module in (api, keyring, pins, receipts, state, transfer, tus):
        assert module.__doc__
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                assert value.__doc__, f"{module.__name__}.{name} has no docstring"
