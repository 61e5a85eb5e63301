"""CRM domain: records and pure rules; no HTTP, no queue internals, no vendor SDKs."""
