"""Who may open another person's image files, and the record of each time someone did.

A person's originals, thumbnails and grid renditions are theirs: only they (and whoever holds
one of their live share links, through gallery.share_views) may open them. The one exception is
the `gallery.view_any_files` permission, which an administrator grants to a person or a group in
Django admin; each view of someone else's file through it is written down as a FileAccessRecord,
shown read-only in admin (gallery.admin_audit). An owner's views of their own files are never
recorded.
"""

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest

from gallery.models import FileAccessRecord, Image

APP_LABEL, CODENAME = "gallery", "view_any_files"
PERMISSION = f"{APP_LABEL}.{CODENAME}"
_CACHE = "_gallery_view_any_files"


def may_view_any_files(user: Any) -> bool:
    """Whether `user` was granted `gallery.view_any_files`, to them or to one of their groups.

    Not `user.has_perm(PERMISSION)`: Django answers True there for every active superuser,
    and this permission must be granted on purpose, never implied by being a superuser or
    staff; opening other people's pictures is a decision someone makes and can see in the
    person's permissions. So the grant itself is looked up (in the database, like ModelBackend
    does for everyone else), and the answer kept on the user object for the request.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    cached = getattr(user, _CACHE, None)
    if cached is None:
        granted = Permission.objects.filter(
            content_type__app_label=APP_LABEL,
            codename=CODENAME,
        ).filter(Q(user=user) | Q(group__user=user))
        cached = granted.exists()
        setattr(user, _CACHE, cached)
    return cached


def record_view(request: HttpRequest, image: Image, variant: str) -> FileAccessRecord | None:
    """Write down that the signed-in person opened `variant` of `image`, if it is not theirs."""
    viewer = request.user
    if image.owner_id == viewer.pk:
        return None
    return FileAccessRecord.objects.create(
        viewer=viewer,
        viewer_name=viewer.get_username(),
        owner_id=image.owner_id,
        owner_name=image.owner.get_username(),
        image=image,
        image_uuid=image.uuid,
        variant=variant[:20],
        path=request.get_full_path()[:500],
    )
