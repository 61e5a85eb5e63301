"""Tags of a workspace (a name and a colour from a fixed palette) on contacts and companies.

`repo` is the only module that runs `sql/*.sql`; every statement is scoped by the workspace
(tags) and the user (the contacts and companies tagged).
"""
