-- Users with stored relationships (the nightly rescore visits each).
SELECT user_id FROM crm.relationship_runs ORDER BY user_id
