"""Comparisons: images side by side (issue 11). Sharing one is in share_urls."""

from django.urls import path

from gallery import compare_views

urlpatterns = [
    path("comparisons/", compare_views.comparison_list, name="comparison_list"),
    path(
        "comparisons/<uuid:comparison_id>/",
        compare_views.comparison_detail,
        name="comparison_detail",
    ),
    path(
        "comparisons/<uuid:comparison_id>/rename/",
        compare_views.comparison_rename,
        name="comparison_rename",
    ),
    path(
        "comparisons/<uuid:comparison_id>/delete/",
        compare_views.comparison_delete,
        name="comparison_delete",
    ),
    path(
        "comparisons/<uuid:comparison_id>/winner/",
        compare_views.comparison_winner,
        name="comparison_winner",
    ),
]
