import { test, expect } from '@playwright/test';
import { signIn, reload } from './helpers';

test('an admin adds, edits and deletes an extension', async ({ page }) => {
  // A plain page: it loads no WASM.
  const wasm: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(r.url()); });
  await signIn(page);
  wasm.length = 0;
  await page.getByRole('link', { name: 'Extensions' }).click();
  await expect(page).toHaveURL(/\/pbx\/extensions$/);
  await page.waitForLoadState('networkidle');
  const table = page.getByRole('table', { name: 'Extensions' });
  // The demo extensions of sandbox mode are there.
  await expect(table).toContainText('kristin.hale@pbxsandbox.example.com');

  await page.getByLabel('Extension number').fill('3100');
  await page.getByLabel('Name', { exact: true }).fill('Test Agent');
  await page.getByLabel('E-mail').fill('not-an-email');
  await page.getByRole('button', { name: 'Add extension' }).click();
  await expect(page.locator('#new-email + .field-error')).toContainText('Enter an e-mail address');
  await page.getByLabel('E-mail').fill('test.agent@example.com');
  await page.getByRole('button', { name: 'Add extension' }).click();
  const row = table.getByRole('row').filter({ hasText: '3100' });
  await expect(row).toContainText('test.agent@example.com');

  // A number that is taken is refused beside the field.
  await page.getByLabel('Extension number').fill('2005');
  await page.getByLabel('Name', { exact: true }).fill('Someone');
  await page.getByRole('button', { name: 'Add extension' }).click();
  await expect(page.locator('#new-number + .field-error')).toHaveText('Another extension already has this number.');

  await page.getByRole('button', { name: 'Edit 3100' }).click();
  // The row being edited holds inputs instead of text.
  await table.getByRole('textbox', { name: 'Name' }).fill('Renamed Agent');
  await table.getByRole('button', { name: 'Save' }).click();
  await expect(table.getByRole('row').filter({ hasText: '3100' })).toContainText('Renamed Agent');
  await reload(page);
  await expect(table.getByRole('row').filter({ hasText: '3100' })).toContainText('Renamed Agent');

  // The web-client password (the agent client's sign-in): write-only, at least 8 characters.
  const renamed = table.getByRole('row').filter({ hasText: '3100' });
  await expect(renamed).toContainText('Not set');
  await expect(page.getByRole('button', { name: 'Web client password 3100' })).toHaveText('Set password');
  await page.getByRole('button', { name: 'Web client password 3100' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Web client password').fill('short');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(dialog.locator('.field-error')).toHaveText('At least 8 characters.');
  await dialog.getByLabel('Web client password').fill('agent-3100-pass');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  // The row now says the password is set ("Set", not "Not set"), and its button changes it.
  await expect(renamed.locator('span.pw-set')).toHaveText('Set');
  await expect(renamed).not.toContainText('Not set');
  await expect(page.getByRole('button', { name: 'Web client password 3100' })).toHaveText('Change');
  await expect(page.locator('body')).not.toContainText('agent-3100-pass');

  // Escape closes a dialog, as Cancel does.
  await page.getByRole('button', { name: 'Delete 3100' }).click();
  await expect(page.getByRole('dialog')).toContainText('Delete extension 3100 (Renamed Agent)?');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(table.getByRole('row').filter({ hasText: '3100' })).toHaveCount(1);

  await page.getByRole('button', { name: 'Delete 3100' }).click();
  await expect(page.getByRole('dialog')).toContainText('Delete extension 3100 (Renamed Agent)?');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(table.getByRole('row').filter({ hasText: '3100' })).toHaveCount(0);
  await page.screenshot({ path: 'test-results/extensions-en.png', fullPage: true });
  expect(wasm).toEqual([]);
});
