"""The version of stance (read by hatch when building, and by stance itself)."""

__version__ = "0.1.0"
