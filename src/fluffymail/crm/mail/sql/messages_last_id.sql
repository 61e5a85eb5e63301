-- The last message id handed out (0 before the first): every message stored afterwards has a
-- larger id.
SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM crm.messages_id_seq
