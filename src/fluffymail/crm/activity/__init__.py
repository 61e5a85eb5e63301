"""The activity log: who changed what and when (notes, tags, merges), kept per workspace.

`repo` is the only module that runs `sql/*.sql`; entries are written on the caller's
connection, in the transaction of the change they record.
"""
