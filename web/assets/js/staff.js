// The frame of staff and village pages: who is signed in, sign out, language switch.
import { api, requireRole } from './api.js';
import { element } from './catalog-view.js';
import { installLanguageSwitch, t, translatePage } from './i18n.js';

/** Checks the role (else to login), fills the top bar; resolves to the user. */
export async function startStaffPage(roles, onLanguageChange = () => {}) {
  document.querySelector('#topbar').replaceChildren(
    element('a', { className: 'brand', attributes: { href: '/', 'data-i18n': 'station.name' } }),
    element('nav', {}, [
      element('span', { attributes: { id: 'who' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'lang-switch', 'data-i18n': 'lang.switch' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'logout', 'data-i18n': 'nav.logout' } }),
    ]));
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
