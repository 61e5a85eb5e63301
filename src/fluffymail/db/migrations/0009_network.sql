-- Who knows whom (issue 6): indexes for the page-load queries of crm/relationships/network.py.

-- A company's people, across the team (company rollups, best path in to a company).
CREATE INDEX contacts_company_idx ON crm.contacts (company_id) WHERE company_id IS NOT NULL;

-- The first (introductions) or latest (warm-intro co-occurrence) links of an address are a
-- short index range instead of every link of the address. It serves every lookup of the
-- (user_id, address) index it replaces, so extraction maintains no extra index.
CREATE INDEX contact_links_address_time_idx
    ON crm.contact_links (user_id, address, occurred_on, message_id);
DROP INDEX crm.contact_links_address_idx;
