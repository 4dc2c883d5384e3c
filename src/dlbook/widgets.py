"""Interactive controls that degrade gracefully: live sliders in Jupyter, one static call headless."""
from __future__ import annotations

import os
from collections.abc import Callable

HEADLESS_ENV = "DLBOOK_HEADLESS"


def headless() -> bool:
    """True when notebooks run without a person (the test suite, `dlbook run`, the website build)."""
    return os.environ.get(HEADLESS_ENV, "").strip() in {"1", "true", "yes"}


def _default(control):
    if hasattr(control, "value"):  # an ipywidgets widget
        return control.value
    if isinstance(control, (list, tuple)) and control:
        return control[0]
    return control


def explore(**controls) -> Callable[[Callable], Callable]:
    """Decorator: show `fn` with ipywidgets `controls` (e.g. lr=FloatLogSlider(...)).

    Headless, no widget is created (nothing could move it, and widget traffic can stall a
    headless kernel); the function runs once with the controls' default values instead.
    """
    def wrap(fn: Callable) -> Callable:
        if headless():
            fn(**{name: _default(c) for name, c in controls.items()})
        else:
            from ipywidgets import interact

            interact(fn, **controls)
        return fn

    return wrap
