"""Relationship intelligence without a database: interaction histories → explained strength scores,
and the records of AI summaries.

Modules: `models` (records), `scoring` (the documented formula, full scan; see SCORING.md),
`state` (the same score kept incrementally), `summaries` (summary request/result and the
`SummaryProvider` port), `extractive` (offline summaries by text rules). Imports only the stdlib.
"""
