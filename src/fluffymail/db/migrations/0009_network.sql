-- Who knows whom (issue 6): indexes for the page-load queries of crm/relationships/network.py.
-- (Introductions find a contact's first message through contacts.first_interaction_on and
-- messages_user_date_idx, so contact_links, written by every extraction, gets no new index.)

-- A company's people, across the team (company rollups, best path in to a company).
CREATE INDEX contacts_company_idx ON crm.contacts (company_id) WHERE company_id IS NOT NULL;
