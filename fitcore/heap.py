"""Keep freed memory for reuse instead of handing it back to the OS after every large array.

numpy allocates a fresh array for every operation. glibc's malloc serves large ones with
their own mmap, or returns the top of the heap to the OS once enough is free, so the next
array of the same size is fresh memory again, and each of its pages costs a page fault
when first written. On this project's machines that made word arithmetic on 10^5-element
arrays twice as slow (the fixed-width reader: 12 ms against 6 ms for 10^5 atoms). Arrays
under 32 MB therefore come from the heap, which keeps up to 64 MB free at its top (and
grows 16 MB at a time): the same pages serve the next array. The thresholds are set
explicitly because setting any of them stops glibc from adapting the others. The cost is
resident memory: freed memory up to the trim threshold stays with the process. Nothing
happens where malloc is not glibc's.
"""
import ctypes

_SETTINGS = (  # glibc's <malloc.h> parameter numbers, and values
    (-1, 64 << 20),  # M_TRIM_THRESHOLD: free memory kept at the top of the heap
    (-2, 16 << 20),  # M_TOP_PAD: how much more the heap grows than asked for
    (-3, 32 << 20),  # M_MMAP_THRESHOLD: larger arrays get their own mapping (32 MB is glibc's maximum)
)


def keep_heap_margin() -> bool:
    """Set glibc's malloc to keep freed memory (for this process and the workers it forks); whether it took."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc: no mallopt (macOS), no CDLL(None) (Windows)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in _SETTINGS)
