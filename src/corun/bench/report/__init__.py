"""Presenting a BenchResult: console (rich table, progress bar), JSON file, PNG plots."""
