"""People and companies of a user's mail: pure rules, their planning, storage and enrichment.

Pure (no database): `addresses` (normalisation), `names` (person names), `automated` (bulk /
role mail), `companies` (company from domain), `signatures` (signature block and its fields),
`extraction` (self, policy and link roles per message). Stored: `repo` (the only module that
runs `sql/*.sql`), `service` (extraction, merges, enrichment), `enrichment` (providers).
"""
