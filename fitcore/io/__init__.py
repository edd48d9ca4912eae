"""Readers and writers: structure files, energies tables, parameter files, exports."""
