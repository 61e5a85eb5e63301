"""Pure rules that turn email participants into clean contacts and companies (no database).

Modules: `addresses` (normalisation), `names` (person names), `automated` (bulk / role mail),
`companies` (company from domain), `signatures` (signature block and its fields).
"""
