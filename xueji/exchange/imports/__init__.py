"""Imports into the student record as jobs: template, read, normalise, validate set-based,
dry run with an error report, and an all-or-nothing commit. See docs/howto/imports.md."""
