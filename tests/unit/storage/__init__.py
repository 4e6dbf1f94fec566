"""Tests of edgeward.storage, on SQLite always and on PostgreSQL when EDGEWARD_TEST_DATABASE_URL is set."""
