-- AI privacy (issue 6): per connection, whether message bodies may leave FluffyMail.
-- 'full': bodies may be sent to the configured external AI provider (when FLUFFYMAIL_EXTERNAL_AI
-- is on); 'metadata': bodies of this connection's mail are never sent to an external model (the
-- offline extractive summary, computed in process, is used instead). A message found in several
-- connections is private as soon as one of them says 'metadata'.
ALTER TABLE crm.connections
    ADD COLUMN visibility text NOT NULL DEFAULT 'full' CHECK (visibility IN ('full', 'metadata'));
