from django.conf import settings
from django.http import HttpRequest


def studio(request: HttpRequest) -> dict[str, bool]:
    """Tell every page whether the offline provider answers instead of CometAPI."""
    return {"offline_provider": not settings.COMETAPI_KEY}
