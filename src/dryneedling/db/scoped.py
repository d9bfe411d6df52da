"""Statements of the busiest paths, built once with the clinic as a bound parameter.

Every API request's token check, recording and signing a visit, and every audited read and change run the
same few statements; building a statement and its cache key anew took about half of the CPU time of those
requests. A statement made by :func:`scoped_statement` is confined to the clinic bound at run time under
``SCOPE``, which ``ClinicScoped.run`` always binds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, bindparam, select

SCOPE = "scope_clinic_id"


def scoped_statement(table: Table, *where: Any, columns: tuple[Any, ...] = ()) -> Select:
    """A ``SELECT`` of ``table`` (or ``columns``) confined to the clinic bound at run time, and ``where``."""
    return select(*(columns or (table,))).where(table.c.clinic_id == bindparam(SCOPE), *where)
