-- The PBX's company contacts (phonebook): groups, and the contacts in each. One group at most
-- carries the Helpdesk tag (`helpdesk` = 1): Contact Sync fills it from Zoho Desk, and it is
-- read-only while tagged (the engine refuses every edit). Synced contacts keep their Zoho
-- module and record id, so a record is updated in place, never added twice to a group.
CREATE TABLE pbx_contact_group (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    helpdesk INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
-- "Sales" and "sales" are the same group to an admin.
CREATE UNIQUE INDEX pbx_contact_group_name_ci ON pbx_contact_group (LOWER(name));

CREATE TABLE pbx_contact (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES pbx_contact_group (id) ON DELETE CASCADE,
    first_name TEXT,
    last_name TEXT NOT NULL,
    company TEXT,
    email TEXT,
    business_phone TEXT,
    mobile_phone TEXT,
    home_phone TEXT,
    -- `contacts` or `accounts` for a record synced from Zoho Desk; NULL for one added by hand.
    zoho_module TEXT,
    zoho_id TEXT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pbx_contact_zoho ON pbx_contact (group_id, zoho_id);
CREATE INDEX pbx_contact_by_group ON pbx_contact (group_id);
