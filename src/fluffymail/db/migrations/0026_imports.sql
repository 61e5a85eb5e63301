-- CSV and vCard imports of contacts and companies (issue 14). Each uploaded file is an import
-- run: parsed and checked when uploaded ('previewed': its good rows staged in
-- crm.import_rows, its bad rows with their reasons in `problems`), then 'queued' for the
-- import-records job, which applies every staged row in one transaction and marks it 'done'
-- (a crash rolls the whole run back; the retried job starts again from the staged rows).
-- The staged rows stay as the run's record: each says which contact or company it became.

CREATE TABLE crm.import_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    workspace_id  bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('contacts', 'companies')),
    format        text NOT NULL CHECK (format IN ('csv', 'vcf')),
    filename      text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT 'previewed'
                  CHECK (state IN ('previewed', 'queued', 'done')),
    mapping       jsonb NOT NULL DEFAULT '[]',  -- [{column, field}] as the header was read
    total_rows    integer NOT NULL DEFAULT 0,
    good_rows     integer NOT NULL DEFAULT 0,
    problems      jsonb NOT NULL DEFAULT '[]',  -- [{row, reason}] of the rows left out
    warnings      jsonb NOT NULL DEFAULT '[]',  -- [{row, reason}] of rows imported in part
    created_count integer NOT NULL DEFAULT 0,
    updated_count integer NOT NULL DEFAULT 0,
    job_id        bigint,
    last_error    text,
    created_on    timestamptz NOT NULL DEFAULT now(),
    queued_on     timestamptz,
    finished_on   timestamptz
);
CREATE INDEX import_runs_user_idx ON crm.import_runs (user_id, id DESC);

CREATE TABLE crm.import_rows (
    run_id         bigint NOT NULL REFERENCES crm.import_runs (id) ON DELETE CASCADE,
    row_no         integer NOT NULL,
    address        text,                       -- contacts: the match key
    name           text NOT NULL DEFAULT '',
    first_name     text NOT NULL DEFAULT '',
    last_name      text NOT NULL DEFAULT '',
    name_quality   smallint NOT NULL DEFAULT 0,
    company        text NOT NULL DEFAULT '',   -- the company's name as the file gives it
    company_domain text,                       -- companies: the match key
    company_given  boolean NOT NULL DEFAULT false, -- contacts: the file names a company
    website        text,
    title          text NOT NULL DEFAULT '',
    phones         text[] NOT NULL DEFAULT '{}',
    tags           text[] NOT NULL DEFAULT '{}',
    notes          text[] NOT NULL DEFAULT '{}',
    contact_id     bigint,                     -- what the row became (set by the import)
    company_id     bigint,
    outcome        text CHECK (outcome IN ('created', 'updated')),
    PRIMARY KEY (run_id, row_no)
);
