from django.conf import settings
from django.http import HttpRequest


def studio(request: HttpRequest) -> dict[str, bool]:
    """Tell every page whether the offline provider answers instead of CometAPI, and whether
    anyone may make an account (SIGNUP_OPEN)."""
    return {"offline_provider": not settings.COMETAPI_KEY, "signup_open": settings.SIGNUP_OPEN}
