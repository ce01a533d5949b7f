"""FirstLine: the software community and village teams run the first line of defence with."""

__version__ = "0.1.0"
