// On the PBX agent web client: tells the extension where the client is, and hands it the
// numbers to dial. Pages that are not the agent client (no marker) are left alone.
(function () {
  'use strict';
  if (!document.querySelector('meta[name="pbx-agent-client"]')) return;
  chrome.runtime.sendMessage({ type: 'client' });
  chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
    if (msg && msg.type === 'dial' && typeof msg.number === 'string') {
      // Signed out, the page cannot dial: the worker brings it forward with the number.
      if (!document.getElementById('agent-state')) {
        reply({ ok: false, reason: 'signed-out' });
        return;
      }
      // The page accepts this only from its own window (this script), see pages/agent.rs.
      window.postMessage('helpdesk-dial:' + msg.number, location.origin);
      reply({ ok: true });
    }
  });
})();
