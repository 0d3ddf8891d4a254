"""Makes spyne 2.14 (its last release) importable on Python 3.12 and 3.13.

spyne vendors an old ``six`` whose meta-path importer has only the pre-PEP 451 methods
(``find_module``/``load_module``), which Python 3.12 no longer calls, so ``spyne.util.six.moves``
cannot be imported. We load that vendored module first, by path and without running spyne's
package ``__init__``, and give its importer the PEP 451 trio (``find_spec``, ``create_module``,
``exec_module``) the way six 1.16 does. Python 3.13 also needs ``cgi``, which the
``legacy-cgi`` package provides. Import ``spyne`` only after ``ensure_spyne_importable()``.

This is code a library should hold; spyne has had no release since 2022.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

SIX = "spyne.util.six"


def ensure_spyne_importable() -> None:
    if SIX in sys.modules:
        return
    spyne_spec = importlib.util.find_spec("spyne")
    if spyne_spec is None or not spyne_spec.submodule_search_locations:
        raise ImportError("spyne is not installed; install ugpp-bridge with its dependencies")
    path = Path(next(iter(spyne_spec.submodule_search_locations))) / "util" / "six.py"
    six_spec = importlib.util.spec_from_file_location(SIX, path)
    if six_spec is None or six_spec.loader is None:
        raise ImportError(f"cannot load spyne's vendored six from {path}")
    module = importlib.util.module_from_spec(six_spec)
    sys.modules[SIX] = module
    six_spec.loader.exec_module(module)
    _add_pep451_methods(type(module._importer))


def _add_pep451_methods(importer: type) -> None:
    if hasattr(importer, "find_spec"):
        return

    def find_spec(
        self: Any, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        if fullname in self.known_modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self: Any, spec: ModuleSpec) -> ModuleType:
        module: ModuleType = self.load_module(spec.name)
        return module

    def exec_module(self: Any, module: ModuleType) -> None:
        return None

    importer.find_spec = find_spec  # type: ignore[attr-defined]
    importer.create_module = create_module  # type: ignore[attr-defined]
    importer.exec_module = exec_module  # type: ignore[attr-defined]
