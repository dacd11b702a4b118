import { test, expect, Page } from '@playwright/test';
import { connect, reload } from './helpers';

/** Picks an extension in a user's drop-down the way a person does: focus it, then choose. */
async function choose(page: Page, user: string, label: string) {
  const box = page.getByRole('combobox', { name: `Extension ${user}` });
  await box.focus();
  await box.selectOption({ label });
}

function chosen(page: Page, user: string) {
  return page.getByRole('combobox', { name: `Extension ${user}` }).locator('option:checked');
}

test.describe.configure({ mode: 'serial' });

test('an admin fetches Zoho Desk users, auto-binds them and binds one by hand', async ({ page }) => {
  await connect(page);
  await page.getByRole('button', { name: 'Refresh Zoho Desk users' }).click();
  await expect(page.getByText('Fetched 8 users.')).toBeVisible();

  await page.getByRole('button', { name: 'Auto Bind' }).click();
  await expect(page.getByRole('dialog')).toContainText('Bindings made by hand stay as they are.');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.getByText(/Bound \d+ users\./)).toBeVisible();
  await expect(chosen(page, 'Kristin Hale')).toHaveText('2005 Kristin Hale');
  await expect(chosen(page, 'Sofia Rossi')).toHaveText('2007 Sofia Rossi');

  // By hand: Emma Wang answers at Reception.
  await choose(page, 'Emma Wang', '2009 Reception');
  await expect(page.getByText('You have unsaved changes.')).toBeVisible();

  // Leaving by the navigation asks first; staying keeps the choice.
  page.once('dialog', (d) => {
    expect(d.message()).toContain('unsaved binding changes');
    void d.dismiss();
  });
  await page.getByRole('link', { name: 'Extensions' }).click();
  await expect(page).toHaveURL(/\/integrations\/helpdesk$/);
  await expect(chosen(page, 'Emma Wang')).toHaveText('2009 Reception');

  await page.locator('#save-bindings').click();
  await expect(page.getByText('Bindings saved.')).toBeVisible();
  await expect(page.getByText('You have unsaved changes.')).toBeHidden();
  await reload(page);
  await expect(chosen(page, 'Emma Wang')).toHaveText('2009 Reception');

  // A conflicting choice is refused with the other side named.
  await choose(page, 'Mia Tanaka', '2005 Kristin Hale');
  await page.locator('#save-bindings').click();
  await expect(page.getByText('Extension 2005 is already bound to Kristin Hale.')).toBeVisible();
  await page.screenshot({ path: 'test-results/users-en.png', fullPage: true });
  await page.getByRole('button', { name: 'Discard changes' }).click();
  await expect(chosen(page, 'Mia Tanaka')).toHaveText('— None —');
});

test('an org of 2,000 agents is fetched with a running count, paged, searched and bound', async ({ page }, info) => {
  await connect(page);
  // The sandbox org grows to 2,000 agents (8 seeded + 1,992 generated: Agent 0009 … Agent 2000).
  const grown = await page.request.post('/sandbox/control/agents', { data: { count: 1992 } });
  expect((await grown.json()).agents).toBe(2000);

  // The PBX gets an extension per generated agent, imported as an operator would.
  const rows = Array.from({ length: 1992 }, (_, i) => {
    const n = String(i + 9).padStart(4, '0');
    return { number: `7${n}`, name: `Desk ${n}`, email: `agent${n}@pbxsandbox.example.com` };
  });
  await page.goto('/pbx/extensions');
  // Typed before the page hydrates, the text would be reset by it: wait for the page first.
  await page.waitForLoadState('networkidle');
  await page.getByLabel('JSON to import').fill(JSON.stringify(rows));
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByText('Imported 1992 extensions.')).toBeVisible({ timeout: 30_000 });

  await page.goto('/integrations/helpdesk');
  let t0 = Date.now();
  await page.getByRole('button', { name: 'Refresh Zoho Desk users' }).click();
  await expect(page.getByText('Fetched 2,000 users.')).toBeVisible({ timeout: 30_000 });
  const fetchMs = Date.now() - t0;
  await expect(page.getByText('Showing 1–100 of 2,000')).toBeVisible();

  await page.getByRole('button', { name: 'Auto Bind' }).click();
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.getByText(/Bound 179\d users\./)).toBeVisible({ timeout: 30_000 });

  t0 = Date.now();
  await reload(page);
  await expect(page.getByText('Showing 1–100 of 2,000')).toBeVisible();
  await expect(page.locator('table.card-table tbody tr')).toHaveCount(100);
  const renderMs = Date.now() - t0;

  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Showing 101–200 of 2,000')).toBeVisible();
  await page.getByLabel('Search users').fill('agent1999@');
  await page.getByLabel('Search users').press('Enter');
  await expect(page.getByText('Showing 1–1 of 1')).toBeVisible();
  await expect(chosen(page, 'Agent 1999')).toHaveText('71999 Desk 1999');
  // Agent 2000 is disabled in Zoho (every tenth generated one): unbound, drop-down off.
  await page.getByLabel('Search users').fill('Agent 2000');
  await page.getByLabel('Search users').press('Enter');
  await expect(page.getByRole('combobox', { name: 'Extension Agent 2000' })).toBeDisabled();

  // Every extension is offered once the drop-down is used.
  await page.getByLabel('Search users').fill('Agent 1998');
  await page.getByLabel('Search users').press('Enter');
  const box = page.getByRole('combobox', { name: 'Extension Agent 1998' });
  await box.focus();
  await expect(box.locator('option', { hasText: '2005 Kristin Hale' })).toHaveCount(1);
  await expect(box.locator('option', { hasText: '72000 Desk 2000' })).toHaveCount(1);
  expect(await box.locator('option').count()).toBeGreaterThanOrEqual(1 + 7 + 1992); // none, demo, imported

  info.annotations.push({ type: 'timing', description: `refresh 2,000 agents: ${fetchMs} ms; reload and render: ${renderMs} ms` });
  console.log(`users timing: refresh 2,000 agents ${fetchMs} ms; reload and render ${renderMs} ms`);
});
