"""FluffyMail: a relationship-intelligence CRM backend on its own PostgreSQL job queue."""

__version__ = "0.1.0"
