"""Dateline: cited, extractive answers from a news archive."""
