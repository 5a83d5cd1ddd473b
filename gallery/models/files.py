"""Files whose bytes may be on the way to storage: the key is recorded here, in a transaction of
its own, before a single byte is written, and the record goes when the row that owns the file is
saved. A process killed in between leaves a record, never an unaccounted file: recovery of the
job (or the orphan sweep, for an upload) deletes the file under each record, then the record.

The row's transaction drops the records (`settle`) and `discard` locks them while it deletes
their files, so a run that was given up (its worker seemed dead, but was only slow) can never
save a row whose files were deleted under it: one of the two finds the records gone.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# An upload is written within one request: its records older than this belong to a request that
# was killed or failed to clean up, and the orphan sweep discards them.
UPLOAD_WRITE_TIME = timedelta(minutes=5)


class PendingFileQuerySet(models.QuerySet):
    def record(self, keys: Iterable[str], generation_id: object | None) -> None:
        """Record the keys about to be written, committed at once: before any byte is.

        The worker's jobs and the upload view run this outside any transaction, so it commits
        here. Called inside a caller's transaction (a test's), the records can only commit with
        it; the orphan sweep's pass by age remains for files such a caller leaves behind."""
        with transaction.atomic(using=self.db):
            self.bulk_create(PendingFile(key=key, generation_id=generation_id) for key in keys)

    def settle(self, keys: list[str]) -> bool:
        """Inside the transaction that saves the files' row: drop their records. False when
        any was discarded meanwhile, and so its file deleted: the row must not be saved."""
        deleted, _by_model = self.filter(key__in=keys).delete()
        return deleted == len(keys)

    def left_behind(self, now: datetime) -> "PendingFileQuerySet":
        """Records nobody is still writing: of a job that is no longer running (retried, ended,
        or deleted), or of an upload older than UPLOAD_WRITE_TIME."""
        from imagegen.models import Generation

        job_over = Q(generation__isnull=False) & ~Q(generation__status=Generation.Status.RUNNING)
        upload_over = Q(generation__isnull=True, created_at__lt=now - UPLOAD_WRITE_TIME)
        return self.filter(job_over | upload_over)

    def give_up(self, keys: list[str]) -> None:
        """The writer of `keys` gives them up: delete their files, recorded or not (records a
        recovery discarded meanwhile, and a file written after), then their records."""
        deleted = [key for key in keys if _delete_file(key)]
        self.filter(key__in=deleted).delete()

    def discard(self) -> int:
        """Delete the file under each record, then the record; how many went. A file that
        cannot be deleted now (the store is unreachable) keeps its record, for the next try."""
        if not self.exists():  # recovery asks every few seconds: no write transaction for nothing
            return 0
        with transaction.atomic(using=self.db):
            # Locked while their files go: a slow run's row transaction waits, then finds them gone.
            records = list(self.select_for_update(of=("self",)).values_list("pk", "key"))
            gone = [pk for pk, key in records if _delete_file(key)]
            PendingFile.objects.using(self.db).filter(pk__in=gone).delete()
        return len(gone)


def _delete_file(key: str) -> bool:
    try:
        default_storage.delete(key)  # a file never written is not an error
    except Exception:
        logger.exception("could not delete %s, a file given up before its row was saved", key)
        return False
    return True


class PendingFile(models.Model):
    key = models.CharField(_("storage key"), max_length=200, unique=True)
    # The job writing it (None for an upload): recovery of that job removes its files at once.
    generation = models.ForeignKey(
        "imagegen.Generation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pending_files",
        verbose_name=_("generation"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    objects = PendingFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("file being written")
        verbose_name_plural = _("files being written")

    def __str__(self) -> str:
        return self.key
