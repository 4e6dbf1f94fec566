"""Repositories: plain functions taking a `Connection` first and returning frozen records.

They never open or commit transactions (the caller's `Database.transaction()` does) and they enforce
limits and uniqueness by letting the database refuse, never by reading first.
"""
