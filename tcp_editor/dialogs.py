"""Every modal dialog the editor shows goes through these functions, so tests can monkeypatch them.

Each returns plain values (str paths, bool answers); "" / None means cancelled.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.bmp)"
PROJECT_FILTER = "TCP Editor projects (*.tcpproj)"
OPEN_FILTER = f"Photos and projects (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.bmp *.tcpproj);;{IMAGE_FILTER};;" \
              f"{PROJECT_FILTER};;All files (*)"
EXPORT_FILTERS = {".png": "PNG (*.png)", ".jpg": "JPEG (*.jpg *.jpeg)", ".jpeg": "JPEG (*.jpg *.jpeg)",
                  ".webp": "WebP (*.webp)"}
EXPORT_FILTER = ";;".join(dict.fromkeys(EXPORT_FILTERS.values()))


def export_filter_for(path: str) -> str:
    """The entry of EXPORT_FILTER that matches path's extension (PNG for anything else)."""
    import os

    return EXPORT_FILTERS.get(os.path.splitext(path)[1].lower(), EXPORT_FILTERS[".png"])
MASK_FILTER = "Mask images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"


def error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def warning(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def info(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str, default_yes: bool = False) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    default = QMessageBox.StandardButton.Yes if default_yes else QMessageBox.StandardButton.No
    return QMessageBox.question(parent, title, text, buttons, default) == QMessageBox.StandardButton.Yes


def ask_save_changes(parent: QWidget | None, what: str) -> str:
    """'save', 'discard' or 'cancel'."""
    b = QMessageBox.StandardButton
    r = QMessageBox.question(parent, "Unsaved changes", f"Save the changes to {what} as a project first?",
                             b.Save | b.Discard | b.Cancel, b.Save)
    return {b.Save: "save", b.Discard: "discard"}.get(r, "cancel")


def ask_restore_autosave(parent: QWidget | None, when: str) -> bool:
    return confirm(parent, "Restore autosave?",
                   f"TCP Editor did not close cleanly last time. An autosaved project from {when} was found.\n\n"
                   "Restore it?", default_yes=True)


def open_path(parent: QWidget | None, title: str = "Open photo or project", directory: str = "",
              filter: str = OPEN_FILTER) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filter)
    return path


def save_path(parent: QWidget | None, title: str, directory: str = "", filter: str = EXPORT_FILTER,
              selected_filter: str = "") -> str:
    """selected_filter: the entry of `filter` shown first (it should match the suggested name)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, directory, filter, selected_filter)
    return path


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok else None


def ask_int(parent: QWidget | None, title: str, label: str, value: int, lo: int, hi: int) -> int | None:
    v, ok = QInputDialog.getInt(parent, title, label, value, lo, hi)
    return v if ok else None
