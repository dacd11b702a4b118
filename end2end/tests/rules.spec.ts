import { test, expect, Page } from '@playwright/test';
import { connectAndBind, openInLog, simulate } from './helpers';

/** How many cells of a sandbox Desk list page read `name` (records other specs left count too). */
async function cells(page: Page, path: string, name: string) {
  await page.goto(path);
  return page.getByRole('cell', { name, exact: true }).count();
}

test('the rules do what the manual promises, exactly once; disable, enable, disconnect', async ({ page }) => {
  test.setTimeout(120_000);
  // Other specs' calls from the same seed numbers may have left call activities (Call Log Sync
  // is on by default): this test counts what it adds.
  const answered = 'Inbound Completed - from <5503301> to Kristin Hale<2005>';
  const callsBefore = await cells(page, '/sandbox/desk/calls', answered);
  await connectAndBind(page, 'Fetched 8 users.');

  // Configure every rule. Fields stay disabled until their rule is checked.
  const rules = page.locator('#rules-form');
  await expect(rules.getByLabel('Module to sync')).toBeDisabled();
  await rules.getByRole('checkbox', { name: 'Auto Sync Contacts', exact: true }).check();
  await rules.getByLabel('Module to sync').selectOption({ label: 'Contacts' });
  await rules.getByLabel('Sync to company contacts group').selectOption({ label: 'Create a new group…' });
  await rules.getByLabel('Group name').fill('Zoho Desk callers');
  await rules.getByRole('checkbox', { name: 'Auto Create New Contact', exact: true }).check();
  await rules.getByRole('checkbox', { name: 'Inbound', exact: true }).check();
  await rules.getByLabel('Create as').selectOption({ label: 'Contact' });
  await rules.getByRole('checkbox', { name: 'Auto Create Ticket', exact: true }).check();
  await expect(rules.getByLabel('When to create tickets')).toHaveValue('after_call_ends');
  await rules.getByRole('checkbox', { name: 'Inbound Answered', exact: true }).check();
  await rules.getByRole('checkbox', { name: 'Inbound Missed', exact: true }).check();
  await rules.getByRole('checkbox', { name: 'Outbound Unanswered', exact: true }).check();
  await rules.getByRole('checkbox', { name: 'Sync call logs', exact: true }).check();
  await page.screenshot({ path: 'test-results/rules-en.png', fullPage: true });
  await rules.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(rules.getByText('Rules saved.')).toBeVisible();

  // 1. A known contact (Paul Young, 5503301) calls Kristin Hale (2005); answered.
  await simulate(page, { number: '5503301', inbound: true, end: 'answer' });
  let jobs = await openInLog(page, '5503301');
  await expect(jobs.filter({ hasText: 'Lookup and sync' })).toContainText('5503301 is the contact Paul Young. Added to the company contacts.');
  await expect(jobs.filter({ hasText: 'Ticket' })).toContainText('Inbound Completed - from <5503301> to Kristin Hale<2005>');
  await expect(jobs.filter({ hasText: 'Call activity' })).toContainText('(Completed)');
  await page.screenshot({ path: 'test-results/log-jobs-en.png', fullPage: true });

  // 2. An unknown caller (5503309), missed: a contact is created, then its ticket.
  await simulate(page, { number: '5503309', inbound: true, end: 'ring_out' });
  jobs = await openInLog(page, '5503309');
  await expect(jobs.filter({ hasText: 'Create record' })).toContainText('Created the contact Automatic New Contact 5503309.');
  await expect(jobs.filter({ hasText: 'Ticket' })).toContainText('Inbound Missed - from <5503309> to Kristin Hale<2005>');

  // 3. Outbound, unanswered, to an account (Acme Logistics, 5503310): no ticket, and why.
  await simulate(page, { number: '5503310', inbound: false, end: 'ring_out' });
  jobs = await openInLog(page, '5503310');
  await expect(jobs.filter({ hasText: 'Ticket' })).toContainText('tickets are for contacts only');

  // 4. A contact without a name (5503305): not synced, and why.
  await simulate(page, { number: '5503305', inbound: true, end: 'answer' });
  jobs = await openInLog(page, '5503305');
  await expect(jobs.filter({ hasText: 'Lookup and sync' })).toContainText('5503305 is the contact (no name). Not synced: it has no name.');

  // Zoho Desk (the sandbox's pages) holds exactly the records the manual promises.
  await page.goto('/sandbox/desk/tickets');
  await expect(page.getByRole('cell', { name: 'Inbound Completed - from <5503301> to Kristin Hale<2005>' })).toHaveCount(1);
  await expect(page.getByRole('cell', { name: 'Inbound Missed - from <5503309> to Kristin Hale<2005>' })).toHaveCount(1);
  await expect(page.getByText('5503310')).toHaveCount(0);
  await page.goto('/sandbox/desk/contacts');
  await expect(page.getByRole('cell', { name: 'Automatic New Contact 5503309' })).toHaveCount(1);
  await page.goto('/sandbox/desk/calls');
  await expect(page.getByRole('cell', { name: answered, exact: true })).toHaveCount(callsBefore + 1);

  // The PBX's company contacts: the synced group carries the Helpdesk tag and is read-only.
  await page.goto('/pbx/contacts');
  const group = page.locator('tr', { hasText: 'Zoho Desk callers' });
  await expect(group).toContainText('Helpdesk');
  await group.getByRole('link', { name: 'Zoho Desk callers' }).click();
  await expect(page.getByText('Paul Young')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add contact' })).toHaveCount(0);

  // Disabled: a call is recorded, no Zoho work happens.
  await page.goto('/integrations/helpdesk');
  await page.waitForLoadState('networkidle');
  await page.getByRole('switch', { name: 'Enable Zoho Desk integration' }).click();
  await expect(page.locator('#status-value')).toHaveText('Disabled');
  await simulate(page, { number: '5503302', inbound: true, end: 'answer' });
  await page.getByRole('link', { name: 'Integration log' }).click();
  const row = page.locator('table.log-table tbody tr', { hasText: '5503302' }).first();
  await row.getByRole('button').click();
  await expect(page.getByText('No Zoho Desk work for this call.')).toBeVisible();
  await expect(page.locator('.call-detail').getByText('integration switched off').first()).toBeVisible();

  // Enabled again, then Disconnect: the group becomes editable.
  await page.getByRole('link', { name: 'Helpdesk Integration' }).click();
  await page.getByRole('switch', { name: 'Enable Zoho Desk integration' }).click();
  await expect(page.locator('#status-value')).toHaveText('Connected');
  await page.getByRole('button', { name: 'Disconnect' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('becomes editable');
  await page.screenshot({ path: 'test-results/disconnect-en.png' });
  await dialog.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.locator('#status-value')).toHaveText('Not connected');
  await expect(page.locator('#rules-form')).toHaveCount(0);
  await page.goto('/pbx/contacts');
  const released = page.locator('tr', { hasText: 'Zoho Desk callers' });
  await expect(released).not.toContainText('Helpdesk');
  await released.getByRole('link', { name: 'Zoho Desk callers' }).click();
  await expect(page.getByRole('button', { name: 'Add contact' })).toBeVisible();
  // …and it is edited like any other group.
  await page.getByLabel('Last name', { exact: true }).fill('Walker');
  await page.getByLabel('Business phone', { exact: true }).fill('5550101');
  await page.getByRole('button', { name: 'Add contact' }).click();
  const table = page.getByRole('table', { name: 'Contacts in Zoho Desk callers' });
  await expect(table.getByRole('row').filter({ hasText: 'Walker' })).toContainText('5550101');
  await expect(table.getByRole('row').filter({ hasText: 'Paul Young' })).toBeVisible();
});
