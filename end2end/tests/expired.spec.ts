import { test, expect, Page } from '@playwright/test';
import { BASE } from '../playwright.config';
import { connectAndBind, open } from './helpers';

/** Places an inbound call from `number` to 2005 in the simulator and lets it ring out. */
async function missedCall(page: Page, number: string) {
  await open(page, '/pbx/simulator');
  await page.getByRole('radio', { name: 'Inbound' }).check();
  await page.getByLabel('External number').fill(number);
  await page.getByLabel('Extension', { exact: true }).fill('2005');
  await page.getByRole('button', { name: 'Place call' }).click();
  const card = page.locator('li.sim-call', { hasText: number }).first();
  await expect(card.getByRole('status')).toHaveText('Ringing on 2005');
  await card.getByRole('button', { name: 'Let it ring out' }).click();
  await expect(card.getByRole('status')).toHaveText('Ended');
}

/** What the admin pages' banner reads from the server. */
async function attention(page: Page) {
  const r = await page.request.post('/api/helpdesk/attention', { headers: { Origin: BASE } });
  return r.json();
}

test('an expired authorization shows on every page with the calls waiting, until re-authorized', async ({ page }) => {
  await connectAndBind(page);
  // Zoho revokes every token (an admin removed the app, say); the next lookup finds out.
  await page.request.post('/sandbox/control/revoke-all', { data: {} });
  await missedCall(page, '5503301');
  await expect.poll(async () => (await attention(page)).auth_expired, { timeout: 20_000 }).toBe(true);
  const before: number = (await attention(page)).waiting_calls;
  expect(before).toBeGreaterThanOrEqual(1);
  // A call made meanwhile is recorded and waits too.
  await missedCall(page, '+86 138 0013 8000');
  await expect.poll(() => attention(page)).toEqual({ auth_expired: true, waiting_calls: before + 1 });

  // Every admin page says so, with the way out.
  for (const path of ['/pbx/extensions', '/integrations/helpdesk/log', '/pbx/contacts']) {
    await open(page, path);
    const banner = page.locator('#auth-banner');
    await expect(banner).toContainText(`Zoho Desk authorization expired — ${before + 1} calls are waiting;`);
    await expect(banner.getByRole('link', { name: 'Re-authorize' })).toBeVisible();
  }
  await page.screenshot({ path: 'test-results/auth-expired-en.png', fullPage: true });

  // Re-authorize through the consent page.
  await page.locator('#auth-banner').getByRole('link', { name: 'Re-authorize' }).click();
  await expect(page).toHaveURL(/\/integrations\/helpdesk/);
  await page.waitForLoadState('networkidle');
  await expect(page.locator('#status-value')).toHaveText('Authorization expired');
  const popupPromise = page.waitForEvent('popup');
  await page.getByRole('button', { name: 'Re-authorize' }).click();
  const popup = await popupPromise;
  await popup.waitForURL(/\/sandbox\/accounts\/oauth\/v2\/auth/);
  await popup.getByRole('button', { name: 'Accept' }).click();
  await popup.waitForURL(/\/oauth\/zoho\/callback/);
  await expect(page.getByRole('dialog')).toContainText('Authorization succeeded!');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.locator('#status-value')).toHaveText('Connected');
  await popup.close();

  // The waiting work is delivered; the banner is gone.
  await expect.poll(() => attention(page), { timeout: 20_000 }).toEqual({ auth_expired: false, waiting_calls: 0 });
  await open(page, '/pbx/extensions');
  await expect(page.locator('#auth-banner')).toHaveCount(0);
  await open(page, '/integrations/helpdesk/log');
  await page.locator('table.log-table tbody tr', { hasText: '5503301' }).first().getByRole('button').click();
  await expect(page.locator('ul.jobs > li[data-kind="contact"]')).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
});
