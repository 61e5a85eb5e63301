-- Ids for a batch about to be COPYed in (COPY writes identity values it is given).
SELECT nextval('crm.messages_id_seq') FROM generate_series(1, %(count)s)
