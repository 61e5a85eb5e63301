"""Stored mail: users, connections, folders, deduplicated messages, threads and participants.

`models` holds the records, `repo` is the only module that runs `sql/*.sql`, `threads`
groups a batch's messages into threads (pure). Imports only the leaves and `crm.messages`.
"""
