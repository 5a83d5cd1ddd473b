"""Deleting a person's account for good, at their request ("Delete my account" on their settings
page): every file of theirs from storage, every row of theirs, every session of theirs.

The order matters:

1. Their queued and running jobs are cancelled first, so no worker saves an image for them any
   more: a worker checks, in the transaction that would insert an image, that its job is still
   running (Generation.lock_if_running, gallery.ingest.store_image) and deletes the files it
   wrote when it is not. Once the job's row is gone, that check finds nothing and answers the
   same, so a job finishing after the deletion never leaves a file behind.
2. Their images go in batches, each batch's rows committed before its files are deleted
   (ImageQuerySet.delete_with_files): memory stays bounded however many there are, and a file
   is never deleted while a committed row still points at it.
3. The images left (one uploaded meanwhile from another tab) and the account go in one
   transaction; everything else of theirs (jobs with their inputs and masks, collections,
   comparisons, share links, presets, keys, budgets) follows by CASCADE. Records of other
   people viewing their files (gallery.FileAccessRecord) stay: they are the administrators'
   audit log, and keep the names only.
4. Their sessions are deleted, on every device.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from gallery.models import Image
from imagegen.models import Generation

BATCH = 500  # images per transaction


def delete_account(user: User) -> None:
    for job in Generation.objects.for_user(user).unfinished():
        job.cancel()
    theirs = Image.objects.filter(owner=user)
    while batch := list(theirs.order_by("id").values_list("id", flat=True)[:BATCH]):
        Image.objects.filter(id__in=batch).delete_with_files()
    user_id = user.pk
    with transaction.atomic():
        Image.objects.filter(owner_id=user_id).delete_with_files()
        user.delete()
    delete_sessions(user_id)


def delete_sessions(user_id: int) -> None:
    """End every session signed in as `user_id`, where the session engine keeps them in the
    database (Django's default). A session kept elsewhere (a signed cookie) ends anyway: its user
    no longer exists, and ids are never reused."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return
    sessions = store.get_model_class().objects.filter(expire_date__gt=timezone.now())
    for session in sessions.iterator(chunk_size=500):
        if session.get_decoded().get(SESSION_KEY) == str(user_id):
            store(session.session_key).delete()  # from the cache too, for cached_db
