"""The shared httpx clients: one for the image endpoint (with the site key), one for URL results
(never with a key). With no site key both go to the embedded offline provider: only the transport
changes, never the code path. A person's own key is not a client of its own: their requests go
through this same client with their key in the request's Authorization header, which replaces
the client's (so with no site key, their key too reaches the offline provider)."""

import threading
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings

USER_AGENT = "image-studio/0.1"
WRITE_TIMEOUT = 120.0  # an edit uploads up to 16 images of up to 50 MB each
POOL_TIMEOUT = 60.0  # waiting for a free connection while every one is busy generating

_clients: dict[str, tuple[tuple[Any, ...], Any]] = {}
_clients_lock = threading.RLock()  # re-entered: a client build asks for the transport


def get_client() -> httpx.Client:
    """The shared client for the endpoint, rebuilt when the settings it was built from change."""
    key = settings.COMETAPI_KEY
    config = (
        key,
        settings.COMETAPI_BASE_URL,
        settings.COMETAPI_CONNECT_TIMEOUT,
        settings.COMETAPI_READ_TIMEOUT,
        settings.COMETAPI_MAX_CONNECTIONS,
    )

    def build() -> httpx.Client:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return httpx.Client(
            base_url=settings.COMETAPI_BASE_URL,
            headers=headers,
            timeout=httpx.Timeout(
                connect=settings.COMETAPI_CONNECT_TIMEOUT,
                read=settings.COMETAPI_READ_TIMEOUT,
                write=WRITE_TIMEOUT,
                pool=POOL_TIMEOUT,
            ),
            limits=_limits(settings.COMETAPI_MAX_CONNECTIONS),
            # A wrong base URL answers 301 (api.md §5): report it, never re-POST elsewhere.
            follow_redirects=False,
            transport=None if key else _offline_transport(),
        )

    return _cached("api", config, build)


def download_client() -> httpx.Client:
    """A client for URL results with no Authorization header: the key never reaches a CDN."""
    online = bool(settings.COMETAPI_KEY)
    config = (online, settings.DOWNLOAD_TIMEOUT, settings.COMETAPI_MAX_CONNECTIONS)

    def build() -> httpx.Client:
        return httpx.Client(
            headers={"Accept": "image/*", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(settings.DOWNLOAD_TIMEOUT),
            limits=_limits(settings.COMETAPI_MAX_CONNECTIONS),
            follow_redirects=False,  # downloads.py follows them itself, checking every hop
            transport=None if online else _offline_transport(),
        )

    return _cached("download", config, build)


def _offline_transport() -> httpx.BaseTransport:
    # Imported here so that this module loads even where the offline provider is left out.
    from imagegen.offline import OfflineProvider, catalogue_names

    # The offline key offers the models an administrator adds too, so they can be tried.
    return _cached("offline", (), lambda: OfflineProvider(extra_models=catalogue_names))


def _limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )


def _cached[T](purpose: str, config: tuple[Any, ...], build: Callable[[], T]) -> T:
    # A replaced client is left open: another thread may still be using it.
    with _clients_lock:
        current = _clients.get(purpose)
        if current is None or current[0] != config:
            current = (config, build())
            _clients[purpose] = current
        return current[1]
