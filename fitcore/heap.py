"""Keep freed memory for reuse instead of handing it back to the OS after every large array.

numpy allocates a fresh array for every operation; glibc's malloc returns the top of the
heap to the OS whenever enough is free, so the next array of the same size is fresh
memory again, and each of its pages costs a page fault when first written. On this
project's machines that made word arithmetic on 10^5-element arrays twice as slow (the
fixed-width reader: 12 ms against 6 ms a file of 10^5 atoms). M_TOP_PAD keeps a margin of
64 MB at the top of the heap: the same pages serve the next array. Only the process's
resident size can grow, by at most the margin. Nothing happens where malloc is not glibc's.
"""
import ctypes

_M_TOP_PAD = -2  # glibc's <malloc.h>
TOP_PAD_BYTES = 64 << 20


def keep_heap_margin() -> bool:
    """Ask glibc's malloc for a heap margin (for this process and the workers it forks); whether it took."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt, Windows)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_TOP_PAD, TOP_PAD_BYTES) == 1
