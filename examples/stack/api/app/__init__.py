"""The example stack's API service, migrations and health probe."""
