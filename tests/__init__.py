"""The test suite: `make check` runs lint and the tests that need no local runtime, browser or
training; `make test`, everything (what CI runs)."""
