'use strict';
async function show() {
  const { pbxOrigin } = await chrome.storage.local.get('pbxOrigin');
  if (pbxOrigin) document.getElementById('pbx').textContent = pbxOrigin;
}
document.getElementById('forget').addEventListener('click', async () => {
  await chrome.storage.local.remove('pbxOrigin');
  await chrome.storage.session.clear();
  document.getElementById('pbx').textContent = 'none yet: open the agent web client once';
});
show();
