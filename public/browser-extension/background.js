// The extension's service worker: remembers the open agent web client tabs of the PBX the
// agent configured (the options page), and passes each click-to-call number to the most recent
// one, with the origin of the page it was clicked on. With no client open, it opens the PBX's
// client with the number filled in (after a sign-in if needed).
'use strict';

const KEY = 'clients';

async function clients() {
  const got = await chrome.storage.session.get(KEY);
  return got[KEY] || [];
}

async function pbxOrigin() {
  const { pbxOrigin } = await chrome.storage.local.get('pbxOrigin');
  return pbxOrigin || null;
}

// Only the agent client of the configured PBX is ever trusted: a page of another site that
// calls itself "/agent" gets no script of ours, and is refused here if it did.
async function remember(tabId, origin) {
  if (origin !== (await pbxOrigin())) return false;
  const list = (await clients()).filter((c) => c.tabId !== tabId);
  list.unshift({ tabId, origin });
  await chrome.storage.session.set({ [KEY]: list.slice(0, 10) });
  return true;
}

function dialUrl(origin, number) {
  return origin + '/agent?dial=' + encodeURIComponent('tel:' + number);
}

async function dial(number, from) {
  const pbx = await pbxOrigin();
  if (!pbx) return { ok: false, reason: 'no-pbx' };
  for (const c of await clients()) {
    if (c.origin !== pbx) continue;
    try {
      const answer = await chrome.tabs.sendMessage(c.tabId, { type: 'dial', number, from });
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
  await chrome.tabs.create({ url: dialUrl(pbx, number) });
  return { ok: true, opened: true };
}

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  // Only our content scripts, in a tab's top frame.
  if (sender.id !== chrome.runtime.id || !sender.tab || sender.frameId !== 0 || !sender.origin) return false;
  if (msg && msg.type === 'client') {
    remember(sender.tab.id, sender.origin).then((ok) => reply({ ok }));
    return true;
  }
  if (msg && msg.type === 'dial' && typeof msg.number === 'string' && /^\+?[0-9]{3,20}$/.test(msg.number)) {
    // `from` is the page's origin as the browser knows it, not as the page says.
    dial(msg.number, sender.origin).then(reply, () => reply({ ok: false, reason: 'failed' }));
    return true;
  }
  return false;
});
