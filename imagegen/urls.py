from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from gallery import views as gallery_views
from imagegen import account_views, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="generate"), name="home"),
    path("generate/", views.generate, name="generate"),
    path("generations/<uuid:generation_id>/", views.generation_detail, name="generation"),
    path("images/", gallery_views.image_list, name="image_list"),
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
    path("accounts/signup/", account_views.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("gallery.share_urls")),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
]
