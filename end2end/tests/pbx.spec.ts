import { test, expect } from '@playwright/test';
import { open, signIn } from './helpers';
import { BASE } from '../playwright.config';

// The PBX sandbox's API application (documented in README).
const PBX_CLIENT_ID = 'pbxsandboxclient0000000000000001';

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

  // Disconnect keeps everything else.
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(page.locator('#pbx-status')).toHaveText('Not configured');
  await open(page, '/pbx/extensions');
  await expect(page.locator('table tbody tr', { hasText: 'Kristin Hale' })).toHaveCount(1);
});
