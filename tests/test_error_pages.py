"""The server error page: the studio's own, with nothing of the error in it, DEBUG off."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.test import Client, override_settings
from django.urls import path


@login_not_required
def broken_view(request):
    raise RuntimeError("secret detail of the failure: /srv/studio/settings")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_shows_the_friendly_500_without_the_error() -> None:
    response = Client(raise_request_exception=False).get("/broken/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "Go to the studio" in page
    assert "secret detail" not in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page
