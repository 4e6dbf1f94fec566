"""Shared pytest configuration: fixtures live in plugin modules registered here."""

pytest_plugins = ["tests.dbfixtures", "tests.serverfixtures"]
