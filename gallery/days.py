"""A day a person picks in a form, that a whole day can be measured from.

A day filter or a share link's last day is used from its start to its end (the next day's
start) in the person's time zone; the calendar's first and last days have no day before or
after them, so they are refused in the form, with a message, instead of overflowing later.
"""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

# A day's start or end, in any time zone (at most 14 hours from UTC), stays within the calendar.
FIRST_DAY = datetime.date(1, 1, 2)
LAST_DAY = datetime.date(9999, 12, 30)


class DayField(forms.DateField):
    default_error_messages = {
        "out_of_range": _("Choose a day between %(first)s and %(last)s."),
    }

    def validate(self, value: datetime.date | None) -> None:
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )
