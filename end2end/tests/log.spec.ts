import { test, expect } from '@playwright/test';
import { createHmac } from 'crypto';
import { connectAndBind, openInLog, simulate } from './helpers';

test('a simulated call from a known contact shows in the integration log with its facts, live', async ({ page }) => {
  await connectAndBind(page, 'Fetched 8 users.');

  // The simulator: Jennifer Lawrence (a sandbox contact) calls Kristin Hale's extension.
  await page.getByRole('link', { name: 'Call simulator' }).click();
  await expect(page.getByRole('heading', { name: 'Call simulator' })).toBeVisible();
  await page.getByLabel('External number').fill('+8613800138000');
  await page.getByLabel('Extension', { exact: true }).fill('2005');
  await page.getByRole('button', { name: 'Place call' }).click();
  // The newest call is on top (calls in progress elsewhere are listed too).
  const card = page.locator('li.sim-call').first();
  await expect(card.getByText('Ringing on 2005')).toBeVisible();
  await card.getByRole('button', { name: 'Answer', exact: true }).click();
  await expect(card.getByText('Talking on 2005')).toBeVisible();
  await card.getByRole('button', { name: 'Hang up' }).click();
  await expect(card.getByText('Ended', { exact: true })).toBeVisible();
  await page.screenshot({ path: 'test-results/simulator-en.png', fullPage: true });

  // The log: the call, its outcome and user, and (opened) its facts and events.
  await page.getByRole('link', { name: 'Integration log' }).click();
  const first = page.locator('table.log-table tbody tr').first();
  await expect(first).toContainText('+8613800138000');
  await expect(first).toContainText('Inbound Answered');
  await expect(first).toContainText('Kristin Hale');
  await first.getByRole('button').click();
  await expect(page.getByText(/Ended as Inbound Answered on 2005 \(rang \d+ s, talked \d+ s\)/)).toBeVisible();
  await expect(page.locator('.call-detail').getByText('Ringing on 2005')).toBeVisible();
  await expect(page.locator('.call-detail').getByText('bound to a Zoho Desk user').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/log-en.png', fullPage: true });

  // A PBX reports a new call while the log is open: it appears without a reload.
  await page.getByRole('button', { name: 'Show the webhook secret' }).click();
  const secret = await page.locator('#webhook-secret').inputValue();
  expect(secret.length).toBeGreaterThanOrEqual(32);
  const body = JSON.stringify({
    event_id: 'e2e-live-1', call_id: 'e2e-live-1', kind: 'ringing', at: new Date().toISOString(),
    direction: 'inbound', external_number: '+1 415 555 0134', extension: '2007',
  });
  const sig = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const r = await page.request.post('/api/pbx/call-events', {
    data: body, headers: { 'Content-Type': 'application/json', 'X-Helpdesk-Signature': sig },
  });
  expect(r.status()).toBe(200);
  await expect(first).toContainText('+1 415 555 0134');
  await expect(first).toContainText('In progress');

  // Filters: by outcome.
  await page.getByLabel('Outcome').selectOption({ label: 'Inbound Answered' });
  await expect(page.locator('table.log-table tbody tr').first()).toContainText('+8613800138000');
  await expect(page.getByText('+1 415 555 0134')).toHaveCount(0);

  // The switch: off pauses Zoho work (the status says so), on resumes.
  await page.getByRole('link', { name: 'Helpdesk Integration' }).click();
  const toggle = page.getByRole('switch', { name: 'Enable Zoho Desk integration' });
  await expect(toggle).toBeChecked();
  await toggle.click();
  await expect(page.locator('#status-value')).toHaveText('Disabled');
  await expect(page.getByRole('switch', { name: 'Enable Zoho Desk integration' })).not.toBeChecked();
  await page.screenshot({ path: 'test-results/helpdesk-disabled.png' });
  await page.getByRole('switch', { name: 'Enable Zoho Desk integration' }).click();
  await expect(page.locator('#status-value')).toHaveText('Connected');
});

test('a caller whose contact an agent just deleted is ticketed on who has the number now, and the log says so', async ({ page }) => {
  test.setTimeout(120_000);
  await connectAndBind(page, 'Fetched 8 users.');
  const rules = page.locator('#rules-form');
  await rules.getByRole('checkbox', { name: 'Auto Create Ticket', exact: true }).check();
  await rules.getByRole('checkbox', { name: 'Inbound Answered', exact: true }).check();
  await rules.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(rules.getByText('Rules saved.')).toBeVisible();

  // Two people in Zoho Desk share a number: Ana's office phone, her colleague's mobile.
  const number = '+86 139 1234 5557';
  const made = await page.request.post('/sandbox/control/contacts', {
    data: { firstName: 'Ana', lastName: 'Lima', phone: number },
  });
  expect(made.status()).toBe(200);
  const ana = (await made.json()).id;
  expect((await page.request.post('/sandbox/control/contacts', {
    data: { lastName: 'Lima-Souza', mobile: '139 1234 5557' },
  })).status()).toBe(200);
  // Zoho's search index catches up with them.
  expect((await page.request.post('/sandbox/control/advance-clock', { data: { secs: 3 } })).status()).toBe(200);

  await simulate(page, { number, inbound: true, end: 'answer' });
  let jobs = await openInLog(page, number);
  await expect(jobs.filter({ hasText: 'Lookup and sync' })).toContainText(`${number} is the contact Ana Lima.`);
  await expect(jobs.filter({ hasText: 'Ticket #' })).not.toContainText('was gone');

  // An agent deletes Ana in Zoho Desk; she calls again a minute later (the integration still
  // remembers her record): the ticket and the call activity go to her colleague.
  expect((await page.request.delete(`/sandbox/control/contacts/${ana}`)).status()).toBe(204);
  await simulate(page, { number, inbound: true, end: 'answer' });
  jobs = await openInLog(page, number);
  const gone = "the caller's contact was gone from Zoho Desk: made on Lima-Souza, who has the number now.";
  await expect(jobs.filter({ hasText: 'Ticket #' })).toContainText(gone);
  await expect(jobs.filter({ hasText: 'Call activity logged' })).toContainText(gone);
  await expect(page.locator('ul.jobs > li[data-state="failed"]')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/log-contact-gone-en.png', fullPage: true });
});
