import { test, expect, Page } from '@playwright/test';
import { signIn, hydrated } from './helpers';

/**
 * Opens `path` with its WASM held back: until the returned function is called, the page is the
 * server's plain HTML, as it is for a person on a slow link in the first second. The function
 * lets the WASM through and waits until the page has hydrated.
 */
async function openHeld(page: Page, path: string) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*_bg.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(path, { waitUntil: 'domcontentloaded' });
  await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  return async () => {
    release();
    await hydrated(page);
  };
}

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

test('a call placed in the simulator before the page is interactive goes the way and to the number chosen', async ({ page }) => {
  await signIn(page);
  const interactive = await openHeld(page, '/pbx/simulator');
  // The server draws the choices as they stand: Inbound picked, the demo numbers filled in.
  await expect(page.getByRole('radio', { name: 'Inbound' })).toBeChecked();
  await expect(page.locator('#sim-extensions')).toHaveValue('2005');
  await page.getByRole('radio', { name: 'Outbound' }).check();
  await page.locator('#sim-number').fill('0086-138-0013-8000');
  await page.getByRole('button', { name: 'Place call' }).click();
  await expect(page.locator('form[aria-busy="true"]')).toHaveCount(1);

  await interactive();
  await expect(page.getByRole('radio', { name: 'Outbound' })).toBeChecked();
  const card = page.locator('li.sim-call', { hasText: '138' }).first();
  await expect(card.locator('strong')).toContainText('Outbound');
  await expect(card.getByRole('status')).toHaveText('Ringing on 2005');
  await card.getByRole('button', { name: 'Let it ring out' }).click();
  await expect(card.getByRole('status')).toHaveText('Ended');
});

test('a scenario clicked before the page is interactive runs once it is, on the extension typed', async ({ page }) => {
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

  const interactive = await openHeld(page, '/pbx/simulator');
  await page.locator('#sim-extensions').fill('2006');
  // The button has no handler yet: the click is held, and the button says so.
  const missed = page.getByRole('button', { name: 'Missed call' });
  await missed.click();
  await missed.click();
  await expect(missed).toHaveAttribute('aria-busy', 'true');

  await interactive();
  await expect(missed).not.toHaveAttribute('aria-busy');
  await expect(page.getByText(/Call sim\S+ sent\./)).toBeVisible();
  // Held once however often it was clicked: one more missed call, on the extension typed.
  await page.unroute('**/*_bg.wasm');
  expect(await missedOn2006()).toBe(before + 1);
});
