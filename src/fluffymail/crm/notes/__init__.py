"""Notes on contacts and companies: Markdown text with an author, linked to every contact
it mentions (`@Maya`, `@Mike Purcell`, `@maya@acme.test`: the longest name that fits wins).

Pure: `mentions` (finding `@mentions` in a note). Stored: `repo` (the only module that runs
`sql/*.sql`). Rendering the Markdown safely is the web layer's (`web/markdown.py`).
"""
