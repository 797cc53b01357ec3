"""The product as a user runs it: its command line on the bundled sample, compared byte for byte with the golden
record (tests/golden.py, tests/golden/)."""
