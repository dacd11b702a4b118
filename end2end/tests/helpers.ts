import { expect, Page, BrowserContext, chromium } from '@playwright/test';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { ADMIN_PASSWORD, BASE } from '../playwright.config';

/** Labels of the manual in both languages (docs/interfaces.md). */
export const L = {
  en: {
    username: 'Username', password: 'Password', signIn: 'Sign in', save: 'Save',
    accounts: 'Accounts Server URL', desk: 'Zoho Desk URL', clientId: 'Client ID',
    clientSecret: 'Client Secret', useSandbox: 'Use the sandbox', connected: 'Connected',
    notConnected: 'Not connected', ok: 'OK', homepage: 'Homepage URL', redirect: 'Redirect URI',
    network: 'Network Information', authorization: 'Authorization Information',
    resultTitle: 'Authorization succeeded',
  },
  zh: {
    username: '用户名', password: '密码', signIn: '登录', save: '保存',
    accounts: '账户服务地址', desk: 'Zoho Desk 地址', clientId: 'ID', clientSecret: '密钥',
    useSandbox: '使用沙盒', connected: '已连接', notConnected: '未连接', ok: '确定',
    homepage: '主页地址', redirect: '重定向 URI', network: '网络信息', authorization: '授权信息',
    resultTitle: '对接认证结果',
  },
};
export type Labels = typeof L.en;

export async function signIn(page: Page, l: Labels = L.en) {
  await page.goto('/login');
  await page.getByLabel(l.username, { exact: true }).fill('admin');
  await page.getByLabel(l.password, { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: l.signIn }).click();
  await expect(page).toHaveURL(/\/integrations\/helpdesk$/);
  await page.waitForLoadState('networkidle');
}

/** Fills in the sandbox, saves, and answers the consent window; returns the consent page. */
export async function saveAndConsent(page: Page, decision: 'Accept' | 'Deny', l: Labels = L.en) {
  await page.getByRole('button', { name: l.useSandbox }).click();
  const popupPromise = page.waitForEvent('popup');
  await page.locator('#auth-form').getByRole('button', { name: l.save, exact: true }).click();
  const popup = await popupPromise;
  await popup.waitForURL(/\/sandbox\/accounts\/oauth\/v2\/auth/);
  await popup.getByRole('button', { name: decision }).click();
  await popup.waitForURL(/\/oauth\/zoho\/callback/);
  return popup;
}

/** The connect journey: sign in, fill the sandbox, Save, Accept, dialog, Connected. */
export async function connect(page: Page, l: Labels = L.en) {
  await signIn(page, l);
  const popup = await saveAndConsent(page, 'Accept', l);
  await expect(popup.locator('#result')).toHaveText('Authorization succeeded!');
  await expect(page.getByRole('dialog')).toContainText('Authorization succeeded!');
  await expect(page.locator('#dialog-title')).toContainText(l.resultTitle);
  await page.getByRole('button', { name: l.ok, exact: true }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.locator('#status-value')).toHaveText(l.connected);
  await popup.close();
}

/** Opens a page and waits until it has hydrated (what is typed before would be reset). */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/** Waits until the page has hydrated (`<html data-hydrated>`, set by the app in the browser). */
export async function hydrated(page: Page) {
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
  await page.waitForLoadState('networkidle');
}

/** Reloads the page and waits until it has hydrated again. */
export async function reload(page: Page) {
  await page.reload();
  await hydrated(page);
}

/** Connects, fetches the sandbox's Zoho Desk users and auto-binds them to the extensions. */
export async function connectAndBind(page: Page, fetched: string | RegExp = /Fetched \d+ users\./) {
  await connect(page);
  await page.getByRole('button', { name: 'Refresh Zoho Desk users' }).click();
  await expect(page.getByText(fetched)).toBeVisible();
  await page.getByRole('button', { name: 'Auto Bind' }).click();
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect(page.getByText(/Bound \d+ users\./)).toBeVisible();
}

/** The admin gives an extension its web-client password (the extensions page's dialog). */
export async function setWebPassword(page: Page, ext: string, password: string) {
  await open(page, '/pbx/extensions');
  await page.getByRole('button', { name: `Web client password ${ext}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Web client password').fill(password);
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

/** Signs an agent in to the agent web client and waits for its live connection. */
export async function agentSignIn(agent: Page, ext: string, password: string) {
  await open(agent, '/agent');
  await agent.getByLabel('Extension', { exact: true }).fill(ext);
  await agent.getByLabel('Password', { exact: true }).fill(password);
  await agent.getByRole('button', { name: 'Sign in' }).click();
  await expect(agent.locator('#agent-conn')).toHaveText('Live');
}

/** Chromium with the browser extension loaded, set up for this PBX in its options page. */
export async function withExtension(): Promise<BrowserContext> {
  const ext = resolve(__dirname, '../../public/browser-extension');
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'pbx-ext-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    baseURL: BASE,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      `--disable-extensions-except=${ext}`,
      `--load-extension=${ext}`,
    ],
  });
  let [worker] = ctx.serviceWorkers();
  if (!worker) worker = await ctx.waitForEvent('serviceworker');
  const id = new URL(worker.url()).host;
  const options = await ctx.newPage();
  await options.goto(`chrome-extension://${id}/options.html`);
  await expect(options.locator('#status')).toHaveText('No PBX is set yet.');
  await options.getByLabel('PBX address').fill(BASE + '/agent');
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.locator('#status')).toContainText(`Saved: numbers go to the agent web client at ${BASE}.`);
  await options.close();
  return ctx;
}

/** Places a call in the simulator and answers it, lets it ring out, or hangs up unanswered. */
export async function simulate(page: Page, opts: { number: string; inbound: boolean; end: 'answer' | 'ring_out' }) {
  await page.getByRole('link', { name: 'Call simulator' }).click();
  await page.getByRole('radio', { name: opts.inbound ? 'Inbound' : 'Outbound' }).check();
  await page.getByLabel('External number').fill(opts.number);
  await page.getByLabel('Extension', { exact: true }).fill('2005');
  await page.getByRole('button', { name: 'Place call' }).click();
  const card = page.locator('li.sim-call', { hasText: opts.number }).first();
  await expect(card.getByRole('status')).toHaveText('Ringing on 2005');
  if (opts.end === 'answer') {
    await card.getByRole('button', { name: 'Answer', exact: true }).click();
    await expect(card.getByRole('status')).toHaveText('Talking on 2005');
    await card.getByRole('button', { name: 'Hang up' }).click();
  } else {
    await card.getByRole('button', { name: 'Let it ring out' }).click();
  }
  await expect(card.getByRole('status')).toHaveText('Ended');
}

/** Opens the newest call of a number in the log and waits until its Zoho work is over. */
export async function openInLog(page: Page, number: string) {
  await page.getByRole('link', { name: 'Integration log' }).click();
  const row = page.locator('table.log-table tbody tr', { hasText: number }).first();
  await row.getByRole('button').click();
  const jobs = page.locator('ul.jobs > li');
  await expect(jobs.first()).toBeVisible();
  // The worker runs in the background; the log refreshes itself every 2 s.
  await expect(page.locator('ul.jobs > li[data-state="queued"], ul.jobs > li[data-state="running"]')).toHaveCount(0, { timeout: 20_000 });
  return jobs;
}
