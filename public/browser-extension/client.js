// On the PBX agent web client (registered for the configured PBX only, see options.js): tells
// the extension the client is open, and hands the page the numbers to dial, with the origin of
// the page they were clicked on (the client dials at once only for its connected Zoho Desk).
(function () {
  'use strict';
  if (!document.querySelector('meta[name="pbx-agent-client"]')) return;
  chrome.runtime.sendMessage({ type: 'client' });
  chrome.runtime.onMessage.addListener((msg, sender, reply) => {
    if (sender.id !== chrome.runtime.id || sender.tab) return;
    if (msg && msg.type === 'dial' && typeof msg.number === 'string' && typeof msg.from === 'string') {
      // Signed out, the page cannot dial: the worker brings it forward with the number.
      if (!document.getElementById('agent-state')) {
        reply({ ok: false, reason: 'signed-out' });
        return;
      }
      // The page accepts this only from its own window, see pages/agent.rs.
      window.postMessage({ type: 'helpdesk-dial', number: msg.number, from: msg.from }, location.origin);
      reply({ ok: true });
    }
  });
})();
