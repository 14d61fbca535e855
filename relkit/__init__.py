"""relkit: release engineering for containerised service stacks."""

__version__ = "0.1.0"
