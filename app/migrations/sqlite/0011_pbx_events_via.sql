-- How the PBX's call events reach this app (issue 16): the PBX posts them to this app's webhook,
-- or this app opens the PBX's event socket (a PBX behind NAT needs no inbound rule).
ALTER TABLE pbx_connection ADD COLUMN events_via TEXT NOT NULL DEFAULT 'webhook'
    CHECK (events_via IN ('webhook', 'websocket'));
