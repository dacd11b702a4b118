// The extension's service worker: remembers the open agent web client tabs (they announce
// themselves) and passes each click-to-call number to the most recent one. With no client
// open, it opens the last known client with the number filled in (after a sign-in if needed).
'use strict';

const KEY = 'clients';

async function clients() {
  const got = await chrome.storage.session.get(KEY);
  return got[KEY] || [];
}

// The PBX is pinned on first use: later, only agent clients of that origin are trusted with
// numbers (another site calling a page "/agent" gets nothing). The options page forgets it.
async function remember(tabId, origin) {
  const { pbxOrigin } = await chrome.storage.local.get('pbxOrigin');
  if (pbxOrigin && pbxOrigin !== origin) return false;
  if (!pbxOrigin) await chrome.storage.local.set({ pbxOrigin: origin });
  const list = (await clients()).filter((c) => c.tabId !== tabId);
  list.unshift({ tabId, origin });
  await chrome.storage.session.set({ [KEY]: list.slice(0, 10) });
  return true;
}

function dialUrl(origin, number) {
  return origin + '/agent?dial=' + encodeURIComponent('tel:' + number);
}

async function dial(number) {
  const list = await clients();
  for (const c of list) {
    try {
      const answer = await chrome.tabs.sendMessage(c.tabId, { type: 'dial', number });
      if (answer && answer.ok) {
        await chrome.tabs.update(c.tabId, { active: true });
        return { ok: true };
      }
      if (answer && answer.reason === 'signed-out') {
        // Sign in there; the number waits in the dial box.
        await chrome.tabs.update(c.tabId, { url: dialUrl(c.origin, number), active: true });
        return { ok: true, opened: true };
      }
    } catch (_) {
      // Closed or navigated away: forget it.
    }
    await chrome.storage.session.set({ [KEY]: (await clients()).filter((x) => x.tabId !== c.tabId) });
  }
  const { pbxOrigin } = await chrome.storage.local.get('pbxOrigin');
  if (pbxOrigin) {
    await chrome.tabs.create({ url: dialUrl(pbxOrigin, number) });
    return { ok: true, opened: true };
  }
  return { ok: false, reason: 'no-client' };
}

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (msg && msg.type === 'client' && sender.tab && sender.origin) {
    remember(sender.tab.id, sender.origin).then((ok) => reply({ ok }));
    return true;
  }
  if (msg && msg.type === 'dial' && typeof msg.number === 'string') {
    dial(msg.number).then(reply, () => reply({ ok: false, reason: 'failed' }));
    return true;
  }
  return false;
});
