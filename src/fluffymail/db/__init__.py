"""Database plumbing: connection pools, the embedded server, SQL files and migrations."""
