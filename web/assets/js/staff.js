// The frame of staff and village pages: who is signed in, sign out, language switch.
import { api, requireRole } from './api.js';
import { installLanguageSwitch, t, translatePage } from './i18n.js';

/** Checks the role (else to login), fills the top bar; resolves to the user. */
export async function startStaffPage(roles, onLanguageChange = () => {}) {
  translatePage();
  const user = await requireRole(roles);
  if (!user) return null;
  const who = document.querySelector('#who');
  const showWho = () => {
    who.textContent = t('page.signed_in_as', { username: user.username, role: t(`role.${user.role}`) });
  };
  showWho();
  installLanguageSwitch(document.querySelector('#lang-switch'), () => {
    showWho();
    onLanguageChange();
  });
  document.querySelector('#logout').addEventListener('click', async () => {
    await api('/api/v1/auth/logout', { method: 'POST' }).catch(() => {});
    location.href = '/login.html';
  });
  return user;
}
