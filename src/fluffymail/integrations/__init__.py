"""Edge adapters to the outside world (mail sources, enrichment, AI); import crm models only."""
