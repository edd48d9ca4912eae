"""The heap margin ljfit's commands ask glibc's malloc for (fitcore/heap.py)."""
import platform

from fitcore.heap import keep_heap_margin


def test_heap_margin_is_taken_exactly_where_malloc_is_glibc():
    assert keep_heap_margin() == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
