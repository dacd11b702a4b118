import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';

test('the extensions page works with no script at all: a refused field is mended, the row added, edited and deleted', async ({ browser }) => {
  // The page is plain HTML: what the admin does in the first second is what the server answers.
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  try {
    await signIn(page);
    await page.goto('/pbx/extensions');
    await page.locator('#new-number').fill('3200');
    await page.locator('#new-name').fill('Early Agent');
    await page.locator('#new-email').fill('early.agent@');
    await page.locator('#new-email').press('Enter');
    // Refused: the page comes back saying why, with what was typed.
    await expect(page.locator('#new-email + .field-error')).toHaveText('Enter an e-mail address such as name@example.com.');
    await expect(page.locator('#new-name')).toHaveValue('Early Agent');
    await page.locator('#new-email').fill('early.agent@example.com');
    await page.locator('#new-email').press('Enter');
    const table = page.getByRole('table', { name: 'Extensions' });
    await expect(table.getByRole('row').filter({ hasText: 'Early Agent' })).toHaveCount(1);
    await expect(page.locator('#new-number')).toHaveValue('');

    await page.getByRole('button', { name: 'Edit 3200' }).click();
    await table.getByRole('textbox', { name: 'Name' }).fill('Early Agent B');
    await table.getByRole('button', { name: 'Save' }).click();
    await expect(table.getByRole('row').filter({ hasText: '3200' })).toContainText('Early Agent B');

    await page.getByRole('button', { name: 'Delete 3200' }).click();
    await expect(page.getByRole('dialog')).toContainText('Delete extension 3200 (Early Agent B)?');
    await page.getByRole('button', { name: 'OK', exact: true }).click();
    await expect(table.getByRole('row').filter({ hasText: '3200' })).toHaveCount(0);
    await expect(page).toHaveURL(/\/pbx\/extensions$/);
  } finally {
    await ctx.close();
  }
});

test('the call simulator works with no script at all: a refused call is mended, then placed the way and to the number chosen, and rung out', async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  try {
    await signIn(page);
    await page.goto('/pbx/simulator');
    // The server draws the choices as they stand: Inbound picked, the demo numbers filled in.
    await expect(page.getByRole('radio', { name: 'Inbound' })).toBeChecked();
    await expect(page.locator('#sim-extensions')).toHaveValue('2005');
    await page.getByRole('radio', { name: 'Outbound' }).check();
    await page.locator('#sim-number').fill('0086-138-0013-8000');
    await page.locator('#sim-extensions').fill('2005, 2006');
    await page.getByRole('button', { name: 'Place call' }).click();
    // Refused: said beside the field, and nothing typed or picked is lost.
    await expect(page.locator('#sim-extensions ~ .field-error')).toHaveText('An outbound call is placed from one extension.');
    await expect(page.getByRole('radio', { name: 'Outbound' })).toBeChecked();
    await expect(page.locator('#sim-number')).toHaveValue('0086-138-0013-8000');
    await page.locator('#sim-extensions').fill('2005');
    await page.locator('#sim-extensions').press('Enter');
    const card = page.locator('li.sim-call', { hasText: '0086-138-0013-8000' }).first();
    await expect(card.locator('strong')).toContainText('Outbound');
    await expect(card.getByRole('status')).toHaveText('Ringing on 2005');
    await card.getByRole('button', { name: 'Let it ring out' }).click();
    await expect(card.getByRole('status')).toHaveText('Ended');
    // The form keeps what the call was placed with.
    await expect(page.getByRole('radio', { name: 'Outbound' })).toBeChecked();
    await expect(page.locator('#sim-number')).toHaveValue('0086-138-0013-8000');
  } finally {
    await ctx.close();
  }
});

test('a scenario double-clicked runs once, on the extension typed', async ({ page }) => {
  await signIn(page);
  // The missed calls on 2006 so far, from the log (filtered by extension).
  const missedOn2006 = async () => {
    await page.goto('/integrations/helpdesk/log');
    await hydrated(page);
    await page.locator('#f-extension').fill('2006');
    await page.locator('#f-extension').press('Enter');
    const rows = page.locator('table.log-table tbody tr').filter({ hasText: 'Inbound Missed' });
    await expect(page.locator('table.log-table tbody tr').filter({ hasNotText: '2006' })).toHaveCount(0);
    return rows.count();
  };
  const before = await missedOn2006();

  await page.goto('/pbx/simulator');
  await expect(page.locator('script[src$=".js"]')).toHaveCount(0);
  await page.locator('#sim-extensions').fill('2006');
  // The second click finds the form busy (the page's script): the scenario is sent once.
  await page.getByRole('button', { name: 'Missed call' }).dblclick();
  await expect(page.getByText(/Call sim\S+ sent\./)).toBeVisible();
  await expect(page.locator('#sim-extensions')).toHaveValue('2006');
  expect(await missedOn2006()).toBe(before + 1);
});
