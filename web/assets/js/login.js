// The shared sign-in page for the POS, village and admin pages.
import { api } from './api.js';
import { installLanguageSwitch, t, translatePage } from './i18n.js';

const form = document.querySelector('#login-form');
const message = document.querySelector('#login-message');
const submit = form.querySelector('button[type=submit]');

const homes = { admin: '/admin/', cashier: '/pos/', village: '/village/' };

function nextPage(role) {
  const next = new URLSearchParams(location.search).get('next');
  // Only our own paths: never an open redirect.
  if (next && next.startsWith('/') && !next.startsWith('//')) return next;
  return homes[role] ?? '/';
}

function show(text) {
  message.textContent = text;
  message.hidden = !text;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) return show(t('login.invalid'));
  submit.disabled = true;
  submit.textContent = t('login.busy');
  try {
    const { user } = await api('/api/v1/auth/login', { method: 'POST', body: { username, password } });
    location.href = nextPage(user.role);
  } catch (error) {
    if (error.code === 'too_many_attempts') {
      show(t('login.too_many_attempts', { minutes: Math.max(1, Math.ceil((error.retryAfter ?? 60) / 60)) }));
    } else if (error.code === 'invalid_credentials') {
      show(t('login.invalid_credentials'));
      form.password.select();
    } else if (error.code === 'invalid') {
      show(t('login.invalid'));
    } else if (error.code === 'unavailable') {
      show(t('login.unavailable'));
    } else {
      show(t('error.generic'));
    }
  } finally {
    submit.disabled = false;
    submit.textContent = t('login.submit');
  }
});

translatePage();
installLanguageSwitch(document.querySelector('#lang-switch'));
form.username.focus();
