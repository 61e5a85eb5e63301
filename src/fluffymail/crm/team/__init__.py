"""Teammates: a workspace's members and roles, and invites into it by one-time link."""
