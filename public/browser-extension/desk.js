// On Zoho Desk pages (Zoho's own hosts, and the PBX's sandbox once configured; top frames
// only): phone numbers become click-to-call links. A click asks the extension's
// service worker to dial the number from the agent's extension, through the agent web client
// (which must be open and signed in; if it is not, the worker opens it).
(function () {
  'use strict';
  const { findNumbers, dialString } = globalThis.PbxNumbers;
  const SKIP = new Set(['SCRIPT', 'STYLE', 'TEXTAREA', 'INPUT', 'SELECT', 'OPTION', 'BUTTON', 'A', 'CODE', 'PRE', 'NOSCRIPT', 'TEMPLATE']);
  const LINK_CLASS = 'pbx-dial';

  function skipped(el) {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (SKIP.has(e.tagName) || e.isContentEditable || e.classList.contains(LINK_CLASS)) return true;
    }
    return false;
  }

  function note(link, text) {
    link.dataset.pbxState = text;
    link.title = text;
  }

  function linkFor(shown) {
    const a = document.createElement('a');
    const dial = dialString(shown);
    a.href = 'tel:' + dial;
    a.className = LINK_CLASS;
    a.textContent = shown;
    a.dataset.pbxNumber = dial;
    a.title = chrome.i18n && chrome.i18n.getUILanguage().startsWith('zh') ? '用我的分机拨打 ' + shown : 'Call ' + shown + ' from my extension';
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      // Only a person's click dials: a page script's click() is not trusted by the browser.
      if (!ev.isTrusted) return;
      note(a, 'dialling');
      chrome.runtime.sendMessage({ type: 'dial', number: dial }, (answer) => {
        if (chrome.runtime.lastError || !answer) {
          note(a, 'failed');
          return;
        }
        note(a, answer.ok ? 'sent' : answer.reason || 'failed');
      });
    });
    return a;
  }

  function linkify(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        if (!node.nodeValue || !/\d{3}/.test(node.nodeValue)) return NodeFilter.FILTER_REJECT;
        return skipped(node.parentElement) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      },
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (const node of nodes) {
      const text = node.nodeValue;
      const found = findNumbers(text);
      if (found.length === 0) continue;
      const frag = document.createDocumentFragment();
      let at = 0;
      for (const f of found) {
        frag.appendChild(document.createTextNode(text.slice(at, f.start)));
        frag.appendChild(linkFor(text.slice(f.start, f.end)));
        at = f.end;
      }
      frag.appendChild(document.createTextNode(text.slice(at)));
      node.parentNode.replaceChild(frag, node);
    }
  }

  linkify(document.body);
  // Zoho Desk draws its pages as you go: numbers that appear later get their links too.
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      linkify(document.body);
    }, 200);
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})();
