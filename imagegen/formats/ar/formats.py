"""Date formats for Arabic pages, where Django's own Arabic locale leaves them out.

Without these, dates with times fall back to the American month-first order ("11/22/2026").
The day comes first, as in Django's Arabic SHORT_DATE_FORMAT (its right-to-left marks included);
names of months and a.m./p.m. are translated by Django. Every other format is Django's.
"""

DATETIME_FORMAT = "j F، Y، g:i A"
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y g:i A"
