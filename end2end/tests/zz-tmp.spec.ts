import { test, expect } from '@playwright/test';
import { signIn } from './helpers';

test('shots', async ({ page }) => {
  await signIn(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/pbx/contacts');
  await page.getByLabel('Group name', { exact: true }).fill('Shots');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByLabel('Last name', { exact: true }).fill('Lawrence');
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.screenshot({ path: '/tmp/m/contacts-err.png', fullPage: true });
  await page.getByLabel('Mobile phone', { exact: true }).fill('+86 138 0013 8000');
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.getByRole('button', { name: 'Delete Lawrence' }).click();
  await page.screenshot({ path: '/tmp/m/contacts-del.png' });
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Rename Shots' }).click();
  await page.screenshot({ path: '/tmp/m/contacts-rename.png' });
});
