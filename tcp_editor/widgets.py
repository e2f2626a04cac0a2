"""Input widgets that take the mouse wheel only when they have the keyboard focus.

Scrolling a panel with the wheel must scroll it, not change whichever spin box or slider happens
to pass under the cursor (issue #15: scrolling the tools panel changed the feather radius).
Unfocused, these ignore the wheel, so it reaches the scroll area around them; a click (or Tab)
focuses one, and then the wheel adjusts it as usual.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSlider, QSpinBox


class _WheelWhenFocused:
    """Mixin (listed before the Qt class): StrongFocus, so Tab or a click gives focus and the wheel
    does not (spin boxes default to WheelFocus); unfocused, the wheel goes to the scroll area."""

    def __init__(self, *a, **k) -> None:
        super().__init__(*a, **k)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class SpinBox(_WheelWhenFocused, QSpinBox):
    pass


class DoubleSpinBox(_WheelWhenFocused, QDoubleSpinBox):
    pass


class Slider(_WheelWhenFocused, QSlider):
    pass


class ComboBox(_WheelWhenFocused, QComboBox):
    pass
