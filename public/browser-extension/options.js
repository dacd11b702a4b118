// The PBX the extension works with: typed in here, granted by the user (optional host
// permission for that one origin), and then the only site whose agent web client receives
// numbers and whose Zoho Desk sandbox pages get links.
'use strict';

const SCRIPTS = (origin) => [
  { id: 'agent-client', matches: [origin + '/agent*'], js: ['client.js'], runAt: 'document_idle' },
  {
    id: 'pbx-sandbox-desk',
    matches: [origin + '/sandbox/desk/*'],
    js: ['numbers.js', 'desk.js'],
    css: ['desk.css'],
    runAt: 'document_idle',
  },
];

const status = (text) => { document.getElementById('status').textContent = text; };

async function current() {
  const { pbxOrigin } = await chrome.storage.local.get('pbxOrigin');
  return pbxOrigin || null;
}

async function forget() {
  const old = await current();
  const ids = (await chrome.scripting.getRegisteredContentScripts()).map((s) => s.id);
  if (ids.length) await chrome.scripting.unregisterContentScripts({ ids });
  if (old) await chrome.permissions.remove({ origins: [old + '/*'] });
  await chrome.storage.local.remove('pbxOrigin');
  await chrome.storage.session.clear();
}

async function save(raw) {
  let url;
  try {
    url = new URL(raw.trim());
  } catch (_) {
    status('Enter the PBX address, such as https://pbx.example.com:8088.');
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    status('The address must start with https:// (or http://).');
    return;
  }
  const origin = url.origin;
  // Asked while handling the click: Chromium shows its permission prompt for this one site.
  const granted = await chrome.permissions.request({ origins: [origin + '/*'] });
  if (!granted) {
    status('Not saved: the extension needs your permission for ' + origin + '.');
    return;
  }
  if ((await current()) !== origin) await forget();
  await chrome.scripting.registerContentScripts(SCRIPTS(origin));
  await chrome.storage.local.set({ pbxOrigin: origin });
  document.getElementById('pbx-url').value = origin;
  status('Saved: numbers go to the agent web client at ' + origin + '. Reload its tab.');
}

document.getElementById('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  save(document.getElementById('pbx-url').value).catch((e) => status('Not saved: ' + e.message));
});
document.getElementById('forget').addEventListener('click', () => {
  forget().then(() => {
    document.getElementById('pbx-url').value = '';
    status('Forgotten: no PBX is set.');
  });
});
current().then((origin) => {
  if (origin) {
    document.getElementById('pbx-url').value = origin;
    status('Numbers go to the agent web client at ' + origin + '.');
  } else {
    status('No PBX is set yet.');
  }
});
