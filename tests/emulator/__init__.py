"""Tests of the local AWS emulator (``emulator/``): the moto extensions, the fault hook."""
