"""Integration tests: handlers and domain together over moto (decorators), no local runtime."""
