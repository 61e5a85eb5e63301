"""Relationship intelligence without a database: interaction histories → explained strength scores.

Modules: `models` (records), `scoring` (the documented formula, full scan; see SCORING.md),
`state` (the same score kept incrementally). Imports only the stdlib.
"""
