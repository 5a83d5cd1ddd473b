"""Comparisons: images side by side (filled in by the comparisons work of issue 11)."""

urlpatterns: list = []
