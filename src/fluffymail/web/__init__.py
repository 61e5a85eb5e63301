"""The web app: JSON API and server-rendered UI over the CRM and the job queue.

`app.create_app(settings)` is the composition root; nothing else here builds pools or reads
the environment. Imports `crm`, the public `fluffymail.queue` API and `jobs.*` payloads only.
"""
