import { test, expect } from '@playwright/test';
import { BASE } from '../playwright.config';
import { hydrated, signIn } from './helpers';

// The demo client the app registers with its sandbox (README: HELPDESK_SANDBOX_CLIENT_ID).
const DEMO_CLIENT = '1000.SANDBOXDEMOCLIENT0000000000000';
const REDIRECT = `${BASE}/oauth/zoho/callback`;

function authUrl(state: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: DEMO_CLIENT,
    redirect_uri: REDIRECT,
    scope: 'Desk.basic.READ,Desk.search.READ,Desk.contacts.READ,Desk.tickets.CREATE',
    access_type: 'offline',
    prompt: 'consent',
    state,
  });
  return `/sandbox/accounts/oauth/v2/auth?${q}`;
}

test('a person browses the sandbox contacts and opens one', async ({ page }) => {
  await page.goto('/sandbox/desk/');
  await expect(page.getByRole('heading', { name: 'PBX Sandbox Co.' })).toBeVisible();
  await page.getByRole('navigation').getByRole('link', { name: 'Contacts' }).click();
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  await page.getByRole('link', { name: 'Jennifer Lawrence' }).click();
  await expect(page.locator('#record-name')).toHaveText('Jennifer Lawrence');
  await expect(page.locator('#record-phone')).toHaveText('+8613800138000');
  await expect(page.getByRole('heading', { name: /Activities › Calls/ })).toBeVisible();
});

test('the consent page asks, and Accept or Deny go back to the redirect URI', async ({ page }) => {
  await page.goto(authUrl('state-accept'));
  await expect(page.locator('#app-name')).toHaveText('PBX Helpdesk Integration (demo)');
  await expect(page.locator('#scopes')).toContainText('Desk.tickets.CREATE');
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL((u) => u.pathname === '/oauth/zoho/callback');
  const accepted = new URL(page.url());
  expect(accepted.searchParams.get('state')).toBe('state-accept');
  expect(accepted.searchParams.get('code')).toMatch(/^1000\./);
  expect(accepted.searchParams.get('accounts-server')).toBe(`${BASE}/sandbox/accounts`);
  expect(accepted.searchParams.get('location')).toBe('us');

  await page.goto(authUrl('state-deny'));
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL((u) => u.pathname === '/oauth/zoho/callback');
  const denied = new URL(page.url());
  expect(denied.searchParams.get('error')).toBe('access_denied');
  expect(denied.searchParams.get('state')).toBe('state-deny');
  expect(denied.searchParams.get('code')).toBeNull();
});

test('a contact webUrl from the API opens its page, as a screen pop will', async ({ page, request }) => {
  // A token through the real flow: consent form → code → token endpoint.
  const consent = await (await request.get(authUrl('s'))).text();
  const consentId = /name="consent_id" value="([^"]+)"/.exec(consent)![1];
  // Zoho grants the token only the organizations ticked on the consent page: tick them all.
  const body = new URLSearchParams({ consent_id: consentId, decision: 'accept' });
  for (const m of consent.matchAll(/name="org" value="(\d+)"/g)) body.append('org', m[1]);
  expect(body.getAll('org').length).toBeGreaterThan(0);
  const answer = await request.post('/sandbox/accounts/oauth/v2/auth', {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    data: body.toString(),
    maxRedirects: 0,
  });
  expect(answer.status()).toBe(302);
  const code = new URL(answer.headers()['location']).searchParams.get('code')!;
  const token = await (
    await request.post('/sandbox/accounts/oauth/v2/token', {
      form: {
        grant_type: 'authorization_code',
        client_id: DEMO_CLIENT,
        client_secret: 'sandbox-demo-secret-0123456789abcdef',
        redirect_uri: REDIRECT,
        code,
      },
    })
  ).json();
  expect(token.access_token).toMatch(/^1000\./);
  const orgs = await (
    await request.get('/sandbox/desk/api/v1/organizations', {
      headers: { Authorization: `Zoho-oauthtoken ${token.access_token}` },
    })
  ).json();
  const found = await (
    await request.get('/sandbox/desk/api/v1/contacts/search?phone=5503301', {
      headers: { Authorization: `Zoho-oauthtoken ${token.access_token}`, orgId: orgs.data[0].id },
    })
  ).json();
  const webUrl: string = found.data[0].webUrl;
  expect(webUrl).toContain('/ShowHomePage.do#Contacts/dv/');
  await page.goto(webUrl);
  await expect(page.locator('#record-name')).toHaveText('Paul Young');
});

test('the app itself is served and hydrates', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The Content-Security-Policy lets through what the pages need and nothing is refused.
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  const resp = await page.goto('/');
  // An anonymous visitor lands on the sign-in page.
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const csp = (await resp!.allHeaders())['content-security-policy'];
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  expect(csp).not.toContain('unsafe-inline');
  // The signed-in pages hydrate under it too.
  await signIn(page);
  for (const path of ['/integrations/helpdesk', '/integrations/helpdesk/log', '/pbx/extensions', '/pbx/contacts', '/pbx/simulator', '/agent']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
  }
  expect(errors).toEqual([]);
});

test('the release site travels compressed, under hashed names cached for a year', async ({ page, request }) => {
  // The agent's web client hydrates with the islands bundle (the sign-in page is plain HTML
  // and loads no WASM).
  const wasmResp = page.waitForResponse((r) => /\/pkg\/helpdesk-[0-9a-f]{16}-islands_bg\.wasm$/.test(r.url()));
  await page.goto('/agent');
  const wasm = await wasmResp;
  const h = await wasm.allHeaders();
  // Chromium offers brotli only over HTTPS: over plain HTTP it gets the gzip copy.
  expect(h['content-encoding']).toMatch(/^(gzip|br)$/);
  expect(h['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(h['vary']).toMatch(/accept-encoding/i);
  // The WASM decoded and ran: the app marks the page hydrated.
  await hydrated(page);
  // A client that asks for brotli gets brotli, much smaller than the file itself.
  const url = new URL(wasm.url()).pathname;
  const br = await request.get(url, { headers: { 'Accept-Encoding': 'br' } });
  expect(br.headers()['content-encoding']).toBe('br');
  const plain = await request.get(url, { headers: { 'Accept-Encoding': 'identity' } });
  expect(plain.headers()['content-encoding']).toBeUndefined();
  const brBytes = Number(br.headers()['content-length']);
  const plainBytes = Number(plain.headers()['content-length']);
  expect(brBytes).toBeGreaterThan(0);
  expect(brBytes).toBeLessThan(plainBytes / 3);
  // Files without a hash in their name are revalidated each time.
  const icon = await request.get('/favicon.svg');
  expect(icon.headers()['cache-control']).toBe('no-cache');
});
