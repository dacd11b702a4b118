import { test, expect, Page } from '@playwright/test';
import { agentSignIn, connectAndBind, open, setWebPassword, signIn, withExtension } from './helpers';
import { BASE } from '../playwright.config';

// The PBX sandbox's API application (documented in README).
const PBX_CLIENT_ID = 'pbxsandboxclient0000000000000001';

/** The admin connects the PBX sandbox on the PBX page. */
async function connectPbxSandbox(page: Page) {
  await open(page, '/pbx/connection');
  await page.getByRole('button', { name: 'Use the PBX sandbox' }).click();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Connected · 7 extensions');
}

/** The admin disconnects the PBX (the journeys leave the server as they found it). */
async function disconnectPbx(page: Page) {
  await open(page, '/pbx/connection');
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Not configured');
}

async function pbxControl(page: Page, data: object) {
  const r = await page.request.post(`${BASE}/sandbox/pbx/control`, { data });
  expect(r.ok()).toBeTruthy();
}

test('an admin connects the PBX: a wrong secret shows the PBX\'s words, the sandbox\'s counts the extensions', async ({ page }) => {
  await signIn(page);
  await open(page, '/pbx/connection');
  await expect(page.locator('#pbx-status')).toHaveText('Not configured');
  await expect(page.getByRole('button', { name: 'Test connection' })).toBeDisabled();

  // Bad input: said beside the fields, nothing saved.
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#base-url')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#client-id')).toHaveAttribute('aria-invalid', 'true');

  // A wrong secret, typed by hand.
  await page.getByLabel('PBX address').fill(`${BASE}/sandbox/pbx`);
  await page.getByLabel('Client ID', { exact: true }).fill(PBX_CLIENT_ID);
  await page.getByLabel('Client Secret', { exact: true }).fill('not-the-secret');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Saved, not tested yet');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('#pbx-status')).toHaveText(
    'Failed: the PBX refused the Client ID or Client Secret (errcode -1)');

  // The sandbox's own application: connected, with its extensions counted.
  await page.getByRole('button', { name: 'Use the PBX sandbox' }).click();
  await expect(page.getByLabel('Client Secret', { exact: true })).toBeDisabled();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Saved, not tested yet');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Connected · 7 extensions');
  // The PBX's extensions are this app's: a sync says what it did.
  await page.getByRole('button', { name: 'Sync extensions from the PBX' }).click();
  await expect(page.locator('#pbx-sync-report')).toContainText('7 extensions on the PBX:');
  await page.screenshot({ path: 'test-results/pbx-connection-en.png', fullPage: true });

  // A big PBX far away (2,000 more extensions, every answer 300 ms late): the sync says how
  // far it is while it reads, then what it did; taking them away again removes only them.
  await pbxControl(page, { add_generated_extensions: 2000, latency_ms: 300 });
  try {
    await page.getByRole('button', { name: 'Sync extensions from the PBX' }).click();
    await expect(page.locator('#pbx-sync-progress')).toContainText(/Read [\d,]+ of 2,007 extensions from the PBX…/);
    await page.screenshot({ path: 'test-results/pbx-sync-progress-en.png', fullPage: true });
    await expect(page.locator('#pbx-sync-report')).toContainText('2,007 extensions on the PBX: 2,000 added, 0 updated, 0 removed.');
    await expect(page.locator('#pbx-sync-progress')).toHaveCount(0);
  } finally {
    await pbxControl(page, { add_generated_extensions: 0, latency_ms: 0 });
  }
  await page.getByRole('button', { name: 'Sync extensions from the PBX' }).click();
  await expect(page.locator('#pbx-sync-report')).toContainText('7 extensions on the PBX: 0 added, 0 updated, 2,000 removed.');
  await expect(page.locator('#pbx-sync-report li')).toHaveCount(21);
  await expect(page.locator('#pbx-sync-report li').last()).toHaveText('…and 1,980 more removed.');

  // Disconnect keeps everything else.
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Not configured');
  await open(page, '/pbx/extensions');
  await expect(page.locator('table tbody tr', { hasText: 'Kristin Hale' })).toHaveCount(1);
});

test('with the PBX sandbox connected, the agent\'s Dial rings the agent\'s phone first, then the number; a refused dial is said in plain words', async ({ page, browser }) => {
  await connectAndBind(page);
  await setWebPassword(page, '2005', 'web-client-2005');
  await connectPbxSandbox(page);
  await expect(page.getByText(`${BASE}/api/pbx/yeastar-events`)).toBeVisible();
  const agentCtx = await browser.newContext();
  try {
    const agent = await agentCtx.newPage();
    await agentSignIn(agent, '2005', 'web-client-2005');
    // The extensions page shows each phone's state as the PBX reports it, live.
    await open(page, '/pbx/extensions');
    const phone = page.locator('#phone-2005');
    await expect(phone).toBeAttached();
    await expect(phone).not.toHaveText('Ringing');
    await agent.getByLabel('Number to dial').fill('+1 (415) 555-0134');
    await agent.getByRole('button', { name: 'Dial', exact: true }).click();
    await expect(agent.getByText('Calling +1 (415) 555-0134 from extension 2005…')).toBeVisible();
    await expect(phone).toHaveText('Ringing');
    await expect(phone).toHaveAttribute('data-phone', 'Ringing');

    // The PBX sandbox's console: the agent's own phone rings, alone.
    await open(page, '/pbx/simulator');
    await expect(page.getByText('The PBX sandbox is connected: this page is its console.')).toBeVisible();
    const call = page.locator('#pbx-console li.pbx-call');
    await expect(call).toHaveCount(1);
    await expect(call.locator('.members > li')).toHaveText(['Extension 2005 · ringingPick up']);
    await page.screenshot({ path: 'test-results/pbx-console-en.png', fullPage: true });
    await call.locator('li[data-number="2005"]').getByRole('button', { name: 'Pick up' }).click();
    // Then the number rings, and the agent's client shows the call (the PBX's own events).
    await expect(call.locator('.members > li')).toHaveText([
      'Extension 2005 · hears ringback',
      '+1 (415) 555-0134 · ringingPick up',
    ]);
    await expect(agent.locator('#agent-state')).toHaveText('Ringing');
    await call.locator('li[data-number="+1 (415) 555-0134"]').getByRole('button', { name: 'Pick up' }).click();
    await expect(agent.locator('#agent-state')).toHaveText('On a call');
    // The agent hangs up in the client: the PBX drops the call.
    await agent.locator('li.agent-call').first().getByRole('button', { name: 'Hang up' }).click();
    await expect(agent.locator('#agent-state')).toHaveText('Idle');
    await expect(page.locator('#pbx-console li.pbx-call')).toHaveCount(0);
    await expect(agent.locator('table.agent-recent tbody tr').first()).toContainText('Outbound Answered');

    // The integration log plays the call's recording, streamed from the PBX.
    await open(page, '/integrations/helpdesk/log');
    const row = page.locator('table.log-table tbody tr').first();
    await expect(row).toContainText('+1 (415) 555-0134');
    await expect(row).toContainText('Outbound Answered');
    await row.getByRole('button').click();
    const audio = page.locator('.call-recording audio');
    await expect(audio).toHaveAttribute('src', /^\/recordings\//);
    const played = await page.request.get(BASE + (await audio.getAttribute('src')));
    expect(played.status()).toBe(200);
    expect(played.headers()['content-type']).toBe('audio/wav');
    await page.screenshot({ path: 'test-results/log-recording-en.png', fullPage: true });

    // An inbound call placed on the PBX sandbox pops the caller's page, as without a PBX.
    await open(page, '/pbx/simulator');
    await page.getByRole('radio', { name: 'Inbound' }).check();
    await page.getByLabel('External number').fill('5503301');
    await page.getByLabel('Extension', { exact: true }).fill('2005');
    const popped = agentCtx.waitForEvent('page');
    await page.getByRole('button', { name: 'Place call' }).click();
    const zoho = await popped;
    await zoho.waitForURL(/\/sandbox\/desk\/contacts\/\d+/);
    await expect(zoho.getByRole('heading', { name: 'Paul Young' })).toBeVisible();
    const inbound = page.locator('#pbx-console li.pbx-call');
    await expect(inbound.locator('li[data-number="2005"]')).toHaveAttribute('data-status', 'RING');
    await expect(agent.locator('#agent-state')).toHaveText('Ringing');
    await inbound.getByRole('button', { name: 'Hang up' }).click();
    await expect(agent.locator('#agent-state')).toHaveText('Idle');
    await zoho.close();

    // A dial the PBX refuses (no permission): said to the agent in plain words.
    await page.request.post(`${BASE}/sandbox/pbx/control`, { data: { fail_dials: 'NO Dial Permission' } });
    await agent.getByLabel('Number to dial').fill('0086-138-0013-8000');
    await agent.getByRole('button', { name: 'Dial', exact: true }).click();
    await expect(agent.getByText(
      'The PBX could not place the call: your extension may not dial this number (NO Dial Permission).')).toBeVisible();
    await agent.screenshot({ path: 'test-results/agent-dial-failed-en.png', fullPage: true });
  } finally {
    await page.request.post(`${BASE}/sandbox/pbx/control`, { data: { fail_dials: null } });
    await agentCtx.close();
    await disconnectPbx(page);
  }
});

test('with the PBX sandbox connected, the browser extension\'s click on a Zoho Desk number rings the agent\'s phone, then the number', async ({ page }) => {
  await connectAndBind(page);
  await setWebPassword(page, '2005', 'web-client-2005');
  await connectPbxSandbox(page);
  const ctx = await withExtension();
  try {
    const agent = ctx.pages()[0] ?? await ctx.newPage();
    await agentSignIn(agent, '2005', 'web-client-2005');
    // Paul Young's page in the Zoho Desk sandbox: his number is a link; a person clicks it.
    const desk = await ctx.newPage();
    await desk.goto('/sandbox/desk/contacts');
    await desk.getByRole('link', { name: 'Paul Young' }).click();
    const link = desk.locator('a.pbx-dial', { hasText: '5503301' }).first();
    await link.click();
    await expect(link).toHaveAttribute('data-pbx-state', 'sent');
    await expect(agent.getByText('Calling 5503301 from extension 2005…')).toBeVisible();

    // On the PBX sandbox's console: extension 2005 rings alone, then the number.
    await open(page, '/pbx/simulator');
    const call = page.locator('#pbx-console li.pbx-call');
    await expect(call).toHaveCount(1);
    await expect(call.locator('.members > li')).toHaveText(['Extension 2005 · ringingPick up']);
    await call.locator('li[data-number="2005"]').getByRole('button', { name: 'Pick up' }).click();
    await expect(call.locator('.members > li')).toHaveText([
      'Extension 2005 · hears ringback',
      '5503301 · ringingPick up',
    ]);
    await expect(agent.locator('#agent-state')).toHaveText('Ringing');
    await call.getByRole('button', { name: 'Hang up' }).click();
    await expect(agent.locator('#agent-state')).toHaveText('Idle');
    await expect(page.locator('#pbx-console li.pbx-call')).toHaveCount(0);
    // The call the PBX placed is the agent's latest.
    await expect(agent.locator('table.agent-recent tbody tr').first()).toContainText('5503301');
    await expect(agent.locator('table.agent-recent tbody tr').first()).toContainText('Outbound');
  } finally {
    await ctx.close();
    await disconnectPbx(page);
  }
});
