"""Deploy, rollback, status and history of an environment."""
