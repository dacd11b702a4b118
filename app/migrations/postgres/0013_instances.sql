-- Several instances on one database (docs/decisions.md, 2026-12-04).

-- A screen pop is claimed once per call and extension, whichever instance the agent's tab
-- reached (rows older than an hour are pruned by the housekeeping).
CREATE TABLE pop_claim (
    call_id TEXT NOT NULL,
    extension TEXT NOT NULL,
    claimed_ms BIGINT NOT NULL,
    PRIMARY KEY (call_id, extension)
);
CREATE INDEX pop_claim_by_time ON pop_claim (claimed_ms);

-- A change to what every instance keeps in memory (the connection and its switch, the
-- extensions and bindings, the rules, the app's secrets, the PBX connection) is announced to
-- all of them when it commits, whoever made it.
CREATE FUNCTION helpdesk_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('helpdesk', json_build_object('t', 'reload', 'table', TG_TABLE_NAME,
        'from', current_setting('application_name'))::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER zoho_connection_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON zoho_connection FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
CREATE TRIGGER pbx_extension_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON pbx_extension FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
CREATE TRIGGER zoho_agent_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON zoho_agent FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
CREATE TRIGGER agent_binding_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON agent_binding FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
CREATE TRIGGER rule_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON rule_settings FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
CREATE TRIGGER app_secret_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON app_secret FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
CREATE TRIGGER pbx_connection_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON pbx_connection FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_settings_changed();
