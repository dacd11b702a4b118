import { test, expect } from '@playwright/test';
import { ADMIN_PASSWORD, BASE } from '../playwright.config';
import { connect, hydrated, L, saveAndConsent, signIn, reload } from './helpers';

test('an admin connects the PBX to the Zoho Desk sandbox', async ({ page }) => {
  await connect(page);
  await expect(page.getByLabel(L.en.homepage)).toHaveValue(BASE);
  await expect(page.getByLabel(L.en.redirect)).toHaveValue(`${BASE}/oauth/zoho/callback`);
  await page.screenshot({ path: 'test-results/helpdesk-connected-en.png', fullPage: true });
  // The secret never comes back to the browser.
  await expect(page.getByLabel(L.en.clientSecret)).toHaveValue('');
  await reload(page);
  await expect(page.locator('#status-value')).toHaveText(L.en.connected);
});

test('Deny at Zoho is reported as a clear failure', async ({ page }) => {
  // A renewal of a working connection, denied: the old authorization is gone, so the
  // connection waits for a new one (its calls are kept, not dropped).
  await connect(page);
  let popup = await saveAndConsent(page, 'Deny');
  await expect(popup.locator('#result')).toContainText('Access was denied at Zoho');
  await expect(page.getByRole('dialog')).toContainText('Access was denied at Zoho');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.locator('#status-value')).toHaveText('Authorization expired');
  await expect(page.getByRole('button', { name: 'Re-authorize' })).toBeVisible();
  await popup.close();

  // A first connection, denied: nothing is connected.
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('dialog').getByRole('button', { name: L.en.ok, exact: true }).click();
  await expect(page.locator('#status-value')).toHaveText(L.en.notConnected);
  popup = await saveAndConsent(page, 'Deny');
  await expect(popup.locator('#result')).toContainText('Access was denied at Zoho');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.locator('#status-value')).toHaveText(L.en.notConnected);
});

test('a forged or reused state is refused', async ({ page }) => {
  await signIn(page);
  await page.goto('/oauth/zoho/callback?code=1000.forged&state=forged&location=us');
  await expect(page.locator('#result')).toContainText('invalid, expired or was already used');

  // A real callback URL, replayed after it was used once.
  await page.goto('/integrations/helpdesk');
  await page.waitForLoadState('networkidle');
  const popup = await saveAndConsent(page, 'Accept');
  await expect(popup.locator('#result')).toHaveText('Authorization succeeded!');
  const used = popup.url();
  await popup.goto(used);
  await expect(popup.locator('#result')).toContainText('invalid, expired or was already used');
});

test('invalid fields get messages beside them', async ({ page }) => {
  await signIn(page);
  await page.getByLabel(L.en.accounts).fill('http://accounts.zoho.com');
  await page.getByLabel(L.en.desk).fill('desk');
  await page.getByLabel(L.en.clientId, { exact: true }).fill('');
  await page.locator('#auth-form').getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#accounts-url + .field-error')).toHaveText('Must start with https://.');
  await expect(page.locator('#desk-url + .field-error')).toContainText('Enter a full URL');
  await expect(page.locator('#client-id + .field-error')).toHaveText('Required.');
  await expect(page.getByLabel(L.en.accounts)).toBeFocused();
});

test.describe('in Simplified Chinese', () => {
  test.use({ locale: 'zh-CN' });

  test('the same journey with the manual\'s Chinese labels', async ({ page }) => {
    await connect(page, L.zh);
    // The menu in the manual's words: 应用对接 › Helpdesk 集成, 通讯录 › 企业联系人.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.locator('.nav-group')).toHaveText(['应用对接', 'PBX', '通讯录']);
    await expect(nav.getByRole('link', { name: 'Helpdesk 集成', exact: true })).toBeVisible();
    await expect(nav.getByRole('link', { name: '企业联系人', exact: true })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Zoho Desk 用户' })).toBeVisible();
    await expect(page.getByText('PBX 的 FQDN 域名')).toBeVisible();
    await expect(page.getByRole('heading', { name: L.zh.network })).toBeVisible();
    await expect(page.getByRole('heading', { name: L.zh.authorization })).toBeVisible();
    await page.screenshot({ path: 'test-results/helpdesk-connected-zh.png', fullPage: true });
  });
});

test('the language switch is remembered', async ({ page }) => {
  await signIn(page);
  await page.getByLabel('Language').selectOption('zh-CN');
  await expect(page.getByRole('heading', { name: L.zh.network })).toBeVisible();
  await reload(page);
  await expect(page.getByRole('heading', { name: L.zh.network })).toBeVisible();
  await page.getByLabel('语言').selectOption('en');
  await expect(page.getByRole('heading', { name: L.en.network })).toBeVisible();
});

test('every text of the page follows the switch, and unsaved choices are asked about first', async ({ page }) => {
  await connect(page);
  await page.getByRole('button', { name: 'Refresh Zoho Desk users' }).click();
  await expect(page.getByText('Fetched 8 users.')).toBeVisible();
  const users = page.getByRole('table', { name: 'Zoho Desk Users' });
  await expect(users.getByRole('cell', { name: 'Active', exact: true }).first()).toBeVisible();

  // Texts drawn once (the status, a table's cells, a field's label) change with the rest.
  await page.getByLabel('Language').selectOption('zh-CN');
  await expect(page.locator('#status-value')).toHaveText(L.zh.connected);
  await expect(page.getByRole('cell', { name: '启用', exact: true }).first()).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Active', exact: true })).toHaveCount(0);
  await expect(page.getByLabel(L.zh.homepage)).toHaveValue(BASE);

  // A choice not saved yet: the switch asks, and "stay" keeps the choice and the language.
  const box = page.getByRole('combobox', { name: '分机 Emma Wang' });
  await box.focus();
  await box.selectOption({ label: '2009 Reception' });
  page.once('dialog', (d) => {
    expect(d.message()).toContain('绑定的更改尚未保存');
    void d.dismiss();
  });
  await page.getByLabel('语言').selectOption('en');
  await expect(page.getByLabel('语言')).toHaveValue('zh-CN');
  await expect(page.locator('#status-value')).toHaveText(L.zh.connected);
  await expect(box.locator('option:checked')).toHaveText('2009 Reception');

  // Agreeing switches and drops the choice, as leaving the page would.
  page.once('dialog', (d) => void d.accept());
  await page.getByLabel('语言').selectOption('en');
  await expect(page.locator('#status-value')).toHaveText(L.en.connected);
  await expect(page.getByRole('combobox', { name: 'Extension Emma Wang' }).locator('option:checked'))
    .not.toHaveText('2009 Reception');
});

test('the sign-in page is plain HTML: a refused password says so, the language switch redraws it, the right one goes on', async ({ page }) => {
  // Nothing to download but the page and its stylesheet: it is interactive as it arrives.
  const scripts: string[] = [];
  page.on('request', (r) => { if (/\.(wasm|js)$/.test(new URL(r.url()).pathname)) scripts.push(r.url()); });
  await page.goto('/login?next=/pbx/extensions');
  await expect(page.locator('html[data-hydrated]')).toHaveCount(1);
  await page.getByLabel(L.en.password, { exact: true }).fill('not the password');
  await page.getByRole('button', { name: L.en.signIn }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fpbx%2Fextensions&failed=credentials$/);
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  await page.screenshot({ path: 'test-results/login-refused-en.png' });

  // The switch remembers the choice and the server draws the page again in it.
  await page.getByLabel('Language').selectOption('zh-CN');
  await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText('用户名或密码错误。');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  expect(scripts, 'no script was loaded for the sign-in page').toEqual([]);
  await page.getByLabel(L.zh.password, { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: L.zh.signIn }).click();
  await expect(page).toHaveURL(/\/pbx\/extensions$/);
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  // Back to English for the journeys after this one (the choice is the browser's cookie).
  await page.getByLabel('语言').selectOption('en');

  // Signing out goes back to the plain page, loaded from the server (the app's WASM has none
  // of its code).
  const before = scripts.length;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await page.waitForLoadState('networkidle');
  expect(scripts.length).toBe(before);
  await page.goto('/pbx/extensions');
  await expect(page).toHaveURL(/\/login\?next=%2Fpbx%2Fextensions$/);
});

test.describe('a browser that asks for plain "zh"', () => {
  test.use({ locale: 'zh' });

  test('gets Simplified Chinese on the first page', async ({ page }) => {
    await page.goto('/login');
    await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  });
});

test('the Helpdesk page works with no script: a refused field says why and keeps what was typed, Save waits with the consent page\'s link', async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  try {
    await signIn(page);
    await page.goto('/integrations/helpdesk');
    // The server draws the fields' values.
    await expect(page.locator('#accounts-url')).not.toHaveValue('');
    // Values no earlier journey stored: `localhost`, not 127.0.0.1.
    const other = BASE.replace('127.0.0.1', 'localhost');
    await page.locator('#accounts-url').fill('accounts.zoho.com');
    await page.locator('#desk-url').fill(`${other}/sandbox/desk`);
    await page.locator('#client-id').fill('1000.SANDBOXDEMOCLIENT0000000000000');
    await page.locator('#client-secret').fill('sandbox-demo-secret-0123456789abcdef');
    await page.locator('#auth-form').getByRole('button', { name: L.en.save, exact: true }).click();
    await expect(page.locator('#accounts-url + .field-error')).toContainText('Enter a full URL');
    await expect(page.locator('#accounts-url')).toBeFocused();
    await expect(page.locator('#desk-url')).toHaveValue(`${other}/sandbox/desk`);
    // The secret is never sent back.
    await expect(page.locator('#client-secret')).toHaveValue('');
    await page.locator('#accounts-url').fill(`${other}/sandbox/accounts`);
    await page.locator('#client-secret').fill('sandbox-demo-secret-0123456789abcdef');
    await page.locator('#auth-form').getByRole('button', { name: L.en.save, exact: true }).click();
    // Saved as typed: the page waits, and its link opens the consent at the typed server.
    await expect(page).toHaveURL(/\/integrations\/helpdesk\?attempt=[0-9a-f]+$/);
    await expect(page.getByText('Waiting for authorization in the other window…')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Open Zoho\'s consent page' }))
      .toHaveAttribute('href', /^http:\/\/localhost:\d+\/sandbox\/accounts\/oauth\/v2\/auth\?.*client_id=1000\.SANDBOXDEMOCLIENT/);
  } finally {
    await ctx.close();
  }
});
