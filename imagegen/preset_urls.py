"""Saved presets and the prompt history (filled in by the form work of issue 11)."""

urlpatterns: list = []
