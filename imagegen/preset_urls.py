"""Saved presets and the prompt history (issue 11)."""

from django.urls import path

from imagegen import preset_views

urlpatterns = [
    path("presets/", preset_views.preset_list, name="preset_list"),
    path("presets/save/", preset_views.preset_save, name="preset_save"),
    path("presets/<uuid:preset_id>/rename/", preset_views.preset_rename, name="preset_rename"),
    path("presets/<uuid:preset_id>/delete/", preset_views.preset_delete, name="preset_delete"),
    path("prompts/", preset_views.prompt_history, name="prompt_history"),
]
