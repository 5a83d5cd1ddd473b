"""What each generation started from: the image it edited (with its mask), the references it
was sent, or the image it is a variation of."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gallery.models.images import Image


class ImageInput(models.Model):
    """An image a generation started from: the one it edited (with the mask painted on it), a
    reference it was sent, or the image it is a variation of. The link outlives the image: once
    that is deleted, `image` is None and `image_uuid` still says which it was."""

    class Role(models.TextChoices):
        EDITED = "edited", _("Edited")
        REFERENCE = "reference", _("Reference")
        VARIED = "varied", _("Varied")

    generation = models.ForeignKey(
        "imagegen.Generation",
        on_delete=models.CASCADE,
        related_name="inputs",
        verbose_name=_("generation"),
    )
    image = models.ForeignKey(
        Image,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="used_as_input",
        verbose_name=_("image"),
    )
    image_uuid = models.UUIDField(_("image UUID"), help_text=_("Kept after the image is deleted."))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("The order the images are sent in; the edited one first.")
    )
    mask = models.BinaryField(
        _("mask"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The PNG mask sent with the edited image: transparent where to change it."),
    )

    class Meta:
        verbose_name = _("input image")
        verbose_name_plural = _("input images")
        ordering = ["generation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "position"], name="one_input_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.image_uuid}"

    @property
    def has_mask(self) -> bool:
        return self.role == self.Role.EDITED and bool(self.mask)

    @property
    def is_sent(self) -> bool:
        """Whether the image goes upstream (a variation only remembers where it came from)."""
        return self.role != self.Role.VARIED
