"""Small display formatters in the request's language (Jinja filters, see :func:`thai.init_app`)."""

from __future__ import annotations

import math

from flask_babel import ngettext

KIB = 1024
MIB = 1024 * 1024


def file_size(size: int | None) -> str:
    """A file size for people: "329 bytes" / "329 ไบต์", "12 KB", "1.5 MB" ("" when unknown).

    Kilobytes are rounded up, so a small file never shows as "0 KB"; the units KB and MB
    read the same in Thai and English.
    """
    if size is None or size < 0:
        return ""
    if size < KIB:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < MIB:
        return f"{math.ceil(size / KIB):,} KB"
    return f"{size / MIB:,.1f} MB"
