// Finds phone numbers in text: what Zoho Desk shows in a contact's or account's Phone and
// Mobile fields, a ticket's contact, a call's number. A number here is an optional "+" or
// "00", then digits with spaces, dots, dashes or brackets between them: 7 to 15 digits in all
// (E.164's limit), not part of a longer word or number, and not a date or a time.
(function (g) {
  'use strict';
  const CANDIDATE = /(?:\+|\b00)?\(?\d[\d\s().\-]{5,22}\d/g;
  const DATE_LIKE = /^\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|^\d{1,2}:\d{2}/;

  function digitsOf(s) {
    return s.replace(/\D/g, '');
  }

  /** The phone numbers in `text`, with where each starts and ends. */
  function findNumbers(text) {
    const found = [];
    CANDIDATE.lastIndex = 0;
    let m;
    while ((m = CANDIDATE.exec(text)) !== null) {
      let s = m[0].replace(/[\s(.\-]+$/, '');
      const start = m.index;
      const before = start > 0 ? text[start - 1] : '';
      const after = text[start + s.length] || '';
      const n = digitsOf(s).length;
      if (n < 7 || n > 15) continue;
      if (/[\w@]/.test(before) || /[\w@]/.test(after)) continue;
      if (DATE_LIKE.test(s.trim())) continue;
      // Unbalanced brackets mean it is not one number.
      if ((s.match(/\(/g) || []).length !== (s.match(/\)/g) || []).length) continue;
      found.push({ start, end: start + s.length, number: s.trim() });
    }
    return found;
  }

  /** The dial string of a shown number: its digits, and its leading "+" (or "00" as "+"). */
  function dialString(shown) {
    const t = shown.trim();
    const d = digitsOf(t);
    if (t.startsWith('+')) return '+' + d;
    if (t.startsWith('00')) return '+' + d.slice(2);
    return d;
  }

  g.PbxNumbers = { findNumbers, dialString };
  if (typeof module !== 'undefined') module.exports = g.PbxNumbers;
})(typeof globalThis !== 'undefined' ? globalThis : this);
