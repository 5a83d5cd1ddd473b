"""Share links: managing them (signed in) and the public pages they open (signed out)."""

from django.urls import path

from gallery import share_views

urlpatterns = [
    path("images/<uuid:image_id>/share/", share_views.share_image, name="share_create_image"),
    path(
        "collections/<uuid:collection_id>/share/",
        share_views.share_collection,
        name="share_create_collection",
    ),
    path(
        "comparisons/<uuid:comparison_id>/share/",
        share_views.share_comparison,
        name="share_create_comparison",
    ),
    path("shares/", share_views.share_list, name="share_list"),
    path("shares/<int:share_id>/", share_views.share_detail, name="share_detail"),
    path("shares/<int:share_id>/revoke/", share_views.share_revoke, name="share_revoke"),
    # Public: tokens are URL-safe base64 (secrets.token_urlsafe), exactly the slug alphabet.
    path("s/<slug:token>/", share_views.shared_page, name="shared_page"),
    path("s/<slug:token>/download.zip", share_views.shared_archive, name="shared_archive"),
    path("s/<slug:token>/<uuid:image_id>/", share_views.shared_image, name="shared_image"),
    path(
        "s/<slug:token>/<uuid:image_id>/original",
        share_views.shared_file,
        {"variant": "original"},
        name="shared_original",
    ),
    path(
        "s/<slug:token>/<uuid:image_id>/thumbnail",
        share_views.shared_file,
        {"variant": "thumbnail"},
        name="shared_thumbnail",
    ),
    path(
        "s/<slug:token>/<uuid:image_id>/grid",
        share_views.shared_file,
        {"variant": "grid"},
        name="shared_grid",
    ),
]
