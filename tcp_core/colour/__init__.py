"""Colour operations on uint8 photos shared by the export and the trainer (numpy + OpenCV, no torch)."""
