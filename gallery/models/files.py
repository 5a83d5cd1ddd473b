"""Files whose bytes may be on the way to storage: the key is recorded here, in a transaction of
its own, before a single byte is written, and the record goes when the row that owns the file is
saved. A process killed in between leaves a record, never an unaccounted file: recovery of the
job (or the orphan sweep, for an upload) deletes the file under each record, then the record."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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

    class Meta:
        verbose_name = _("file being written")
        verbose_name_plural = _("files being written")

    def __str__(self) -> str:
        return self.key
