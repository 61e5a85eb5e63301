-- The contact leaves the company its mail gave it, now that the company's domain is known as
-- free mail or a consumer internet provider's (companies.is_free_mail_domain: an address at
-- rr.com or comcast.net names no employer). A company the user chose for the contact
-- (company_source 'you') or named (name_source 'user') stays. The company row stays too
-- (its notes, tags and merges keep pointing at it); without people it leaves the list.
UPDATE crm.contacts c
SET company_id = NULL, updated_on = %(now)s
FROM crm.companies co
WHERE c.id = %(id)s AND co.id = c.company_id AND co.id = %(company_id)s
  AND c.company_source = 'mail' AND co.name_source <> 'user'
RETURNING c.id
