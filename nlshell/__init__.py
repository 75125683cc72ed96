"""nlshell: a natural-language shell over typed, permission-checked syscalls."""

__version__ = "0.1.0"
