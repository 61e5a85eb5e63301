"""CSV and vCard imports of contacts and companies: header mapping (`columns`), reading a file
(`reading`), checking each record (`records`), and the runs with their staged rows applied in
one transaction (`repo`, the only module that runs `sql/*.sql`).

Imports only the leaves and `crm.contacts` (addresses, companies); never `web` or `jobs`.
"""
