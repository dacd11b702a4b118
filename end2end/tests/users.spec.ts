import { test, expect } from '@playwright/test';
import { connect } from './helpers';

test('an admin fetches Zoho Desk users, auto-binds them and binds one by hand', async ({ page }) => {
  await connect(page);
  await page.getByRole('button', { name: 'Refresh Zoho Desk users' }).click();
  await expect(page.getByText('Fetched 8 users.')).toBeVisible();

  await page.getByRole('button', { name: 'Auto Bind' }).click();
  await expect(page.getByRole('dialog')).toContainText('Bindings made by hand stay as they are.');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.getByText(/Bound \d+ users\./)).toBeVisible();
  const kristin = page.getByRole('combobox', { name: 'Extension Kristin Hale' });
  await expect(kristin.locator('option:checked')).toHaveText('2005 Kristin Hale');
  await expect(page.getByRole('combobox', { name: 'Extension Sofia Rossi' }).locator('option:checked')).toHaveText('2007 Sofia Rossi');

  // By hand: Emma Wang answers at Reception.
  await page.getByRole('combobox', { name: 'Extension Emma Wang' }).selectOption({ label: '2009 Reception' });
  await expect(page.getByText('You have unsaved changes.')).toBeVisible();
  await page.locator('#save-bindings').click();
  await expect(page.getByText('Bindings saved.')).toBeVisible();
  await page.reload({ waitUntil: 'domcontentloaded' });
  await expect(page.getByRole('combobox', { name: 'Extension Emma Wang' }).locator('option:checked')).toHaveText('2009 Reception');

  // A conflicting choice is refused with the other side named.
  await page.getByRole('combobox', { name: 'Extension Mia Tanaka' }).selectOption({ label: '2005 Kristin Hale' });
  await page.locator('#save-bindings').click();
  await expect(page.getByText('Extension 2005 is already bound to Kristin Hale.')).toBeVisible();
  await page.screenshot({ path: 'test-results/users-en.png', fullPage: true });
});
