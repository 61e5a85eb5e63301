-- One contact's cadence in days (no row: none).
SELECT days FROM crm.contact_cadences WHERE user_id = %(user_id)s AND contact_id = %(contact_id)s
