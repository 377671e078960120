"""Dateline tests."""
