"""Forwarding modules: what ``sys.modules`` holds for a package that has instances in contexts.

``sys.modules`` is one dict for the whole interpreter, but each thread may be inside a different
context. So once a package has an isolated instance, each of its ``sys.modules`` entries is a
:class:`ForwardingModule`: every attribute read, write or delete goes to the module of that name
in the instance that applies to the calling thread (``resolve(name)``, provided by isolated.py):
the innermost context it is in or is importing for, else the base instance. Imports by name,
including ``PyImport_ImportModule`` from C followed by an attribute lookup, therefore reach the
right instance. Code that holds a real module object is not affected.
"""
from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

Resolver = Callable[[str], ModuleType]

_resolve: Resolver | None = None


def set_resolver(resolve: Resolver) -> None:
    global _resolve
    _resolve = resolve


class ForwardingModule(ModuleType):
    __slots__ = ()

    def __init__(self, name: str) -> None:
        ModuleType.__init__(self, name)
        ModuleType.__setattr__(self, "_corun_forward", name)

    def _corun_target(self) -> ModuleType:
        name = ModuleType.__getattribute__(self, "_corun_forward")
        assert _resolve is not None
        return _resolve(name)

    def __getattribute__(self, attr: str) -> Any:
        if attr in ("_corun_forward", "_corun_target", "__class__"):
            return ModuleType.__getattribute__(self, attr)
        return getattr(ForwardingModule._corun_target(self), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(ForwardingModule._corun_target(self), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(ForwardingModule._corun_target(self), attr)

    def __dir__(self) -> list[str]:
        return dir(ForwardingModule._corun_target(self))

    def __repr__(self) -> str:
        name = ModuleType.__getattribute__(self, "_corun_forward")
        return f"<corun forwarding module {name!r}>"


def is_forwarder(obj: object) -> bool:
    return type(obj) is ForwardingModule
