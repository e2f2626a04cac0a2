"""Fusion style, with a dark palette when the system colour scheme is dark."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    try:
        scheme = hints.colorScheme()
        if scheme == Qt.ColorScheme.Dark:
            return True
        if scheme == Qt.ColorScheme.Light:
            return False
    except AttributeError:  # Qt < 6.5
        pass
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    p = QPalette()
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    base, window, text = QColor(35, 35, 38), QColor(50, 50, 54), QColor(225, 225, 228)
    p.setColor(R.Window, window)
    p.setColor(R.WindowText, text)
    p.setColor(R.Base, base)
    p.setColor(R.AlternateBase, QColor(45, 45, 48))
    p.setColor(R.ToolTipBase, QColor(60, 60, 64))
    p.setColor(R.ToolTipText, text)
    p.setColor(R.Text, text)
    p.setColor(R.Button, window)
    p.setColor(R.ButtonText, text)
    p.setColor(R.BrightText, QColor(255, 90, 90))
    p.setColor(R.Link, QColor(90, 160, 255))
    p.setColor(R.Highlight, QColor(60, 120, 215))
    p.setColor(R.HighlightedText, QColor(255, 255, 255))
    p.setColor(R.PlaceholderText, QColor(140, 140, 145))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QColor(120, 120, 125))
    return p


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Fusion everywhere; the dark palette if `dark` (None: follow the system). Returns dark."""
    app.setStyle("Fusion")
    dark = system_is_dark() if dark is None else dark
    if dark:
        app.setPalette(dark_palette())
    return dark
