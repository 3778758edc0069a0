"""Unit tests: one module, construct or rule at a time, AWS emulated in-process by moto."""
