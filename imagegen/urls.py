from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from gallery import bulk_views, collection_views, grid, trash_views, upload_views
from gallery import views as gallery_views
from imagegen import account_data_views, account_views, edit_views, health, usage_views, views
from imagegen.password_attempts import ChangePasswordView, SignInView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="generate"), name="home"),
    path("generate/", views.generate, name="generate"),
    path("generate/plan/", views.comparison_plan, name="comparison_plan"),
    path("generate/estimate/", views.cost_estimate, name="cost_estimate"),
    path("generations/status/", views.generation_status, name="generation_status"),
    path("generations/<uuid:generation_id>/", views.generation_detail, name="generation"),
    path(
        "generations/<uuid:generation_id>/retry/",
        views.retry_generation,
        name="generation_retry",
    ),
    path(
        "generations/<uuid:generation_id>/cancel/",
        views.cancel_generation,
        name="generation_cancel",
    ),
    path(
        "generations/<uuid:generation_id>/mask",
        edit_views.generation_mask,
        name="generation_mask",
    ),
    path(
        "generations/<uuid:generation_id>/preview",
        views.generation_preview,
        name="generation_preview",
    ),
    path("images/", gallery_views.image_list, name="image_list"),
    path("images/bulk/", bulk_views.bulk_action, name="image_bulk"),
    path("images/tiles/", grid.tile_size, name="gallery_tile_size"),
    path("images/upload/", upload_views.upload, name="image_upload"),
    path("images/picker/", upload_views.reference_picker, name="reference_picker"),
    path("images/<uuid:image_id>/edit/", edit_views.edit_image, name="image_edit"),
    path(
        "images/<uuid:image_id>/edit/estimate/",
        edit_views.edit_cost_estimate,
        name="image_edit_estimate",
    ),
    path("images/<uuid:image_id>/vary/", edit_views.vary_image, name="image_vary"),
    path("images/<uuid:image_id>/", gallery_views.image_detail, name="image_detail"),
    path(
        "images/<uuid:image_id>/original",
        gallery_views.image_file,
        {"variant": "original"},
        name="image_original",
    ),
    path(
        "images/<uuid:image_id>/thumbnail",
        gallery_views.image_file,
        {"variant": "thumbnail"},
        name="image_thumbnail",
    ),
    path(
        "images/<uuid:image_id>/grid",
        gallery_views.image_file,
        {"variant": "grid"},
        name="image_grid",
    ),
    path(
        "images/<uuid:image_id>/favourite/", gallery_views.toggle_favourite, name="image_favourite"
    ),
    path("images/<uuid:image_id>/rate/", gallery_views.rate_image, name="image_rate"),
    path("images/<uuid:image_id>/delete/", trash_views.delete_image, name="image_delete"),
    path("trash/", trash_views.trash, name="trash"),
    path("trash/undo/", trash_views.undo, name="trash_undo"),
    path("trash/selected/", trash_views.act, name="trash_act"),
    path("trash/empty/", trash_views.empty, name="trash_empty"),
    path(
        "images/<uuid:image_id>/collections/",
        collection_views.collection_membership,
        name="image_collections",
    ),
    path("collections/", collection_views.collection_list, name="collection_list"),
    path(
        "collections/<uuid:collection_id>/",
        collection_views.collection_detail,
        name="collection_detail",
    ),
    path(
        "collections/smart/",
        collection_views.smart_collection_create,
        name="smart_collection_create",
    ),
    path(
        "collections/<uuid:collection_id>/search/",
        collection_views.smart_collection_search,
        name="smart_collection_search",
    ),
    path(
        "collections/<uuid:collection_id>/rename/",
        collection_views.collection_rename,
        name="collection_rename",
    ),
    path(
        "collections/<uuid:collection_id>/delete/",
        collection_views.collection_delete,
        name="collection_delete",
    ),
    path("usage/", usage_views.usage, name="usage"),
    path("usage/usage.csv", usage_views.usage_csv, name="usage_csv"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/settings/", account_views.account_settings, name="account_settings"),
    path("accounts/settings/key/", account_views.personal_key_save, name="personal_key_save"),
    path(
        "accounts/settings/key/remove/",
        account_views.personal_key_remove,
        name="personal_key_remove",
    ),
    path(
        "accounts/settings/key/models/",
        account_views.personal_key_models,
        name="personal_key_models",
    ),
    path(
        "accounts/settings/export.zip", account_data_views.export_everything, name="account_export"
    ),
    path("accounts/settings/delete/", account_data_views.delete_my_account, name="account_delete"),
    path("accounts/settings/password/", ChangePasswordView.as_view(), name="password_change"),
    path("accounts/deleted/", account_data_views.account_deleted, name="account_deleted"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("gallery.share_urls")),
    path("", include("gallery.compare_urls")),
    path("", include("imagegen.preset_urls")),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
