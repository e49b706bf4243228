"""For tests run in a fresh process: noting each Python enum PySide6 makes (it makes a class's enums at its first use).

`NOTE_ENUMS` goes first in such a process's code; the names of the enums made
from then on are in the list `made`.
"""

NOTE_ENUMS = """
import enum
made = []
make_enum = enum.EnumType.__call__
def noting(cls, value, names=None, *args, **kwargs):
    if names is not None:
        made.append(value)
    return make_enum(cls, value, names, *args, **kwargs)
enum.EnumType.__call__ = noting
"""
