-- The contacts on a static list, so that deleting it is logged on each as it comes off them.
SELECT contact_id FROM crm.contact_list_members WHERE list_id = %(list_id)s ORDER BY contact_id
