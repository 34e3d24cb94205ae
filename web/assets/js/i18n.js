// Text for every page, Chinese first; English on request (saved in localStorage).
const dictionary = {
  zh: {
    'station.name': '安海镇乡村联盟驿站',
    'station.tagline': '各村好物，一站汇聚',
    'lang.switch': 'English',
    'login.title': '员工与村集体登录',
    'login.username': '账号',
    'login.password': '密码',
    'login.submit': '登录',
    'login.busy': '正在登录…',
    'login.invalid_credentials': '账号或密码不正确。',
    'login.too_many_attempts': '失败次数过多，请 {minutes} 分钟后再试。',
    'login.unavailable': '系统暂时不可用，请稍后再试。',
    'login.invalid': '请填写账号和密码。',
    'login.hint': '收银员、站长和各村集体使用同一个登录页。',
    'nav.home': '驿站首页',
    'nav.logout': '退出登录',
    'role.admin': '站长',
    'role.cashier': '收银员',
    'role.village': '村集体',
    'page.admin': '站长管理后台',
    'page.pos': '收银台',
    'page.village': '村集体收益',
    'page.signed_in_as': '当前登录：{username}（{role}）',
    'page.coming': '本页面的功能正在建设中。',
    'error.generic': '出错了，请重试。',
  },
  en: {
    'station.name': 'Anhai Rural Alliance Station',
    'station.tagline': "The villages' best, in one place",
    'lang.switch': '中文',
    'login.title': 'Staff and village sign-in',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.invalid_credentials': 'Wrong username or password.',
    'login.too_many_attempts': 'Too many failed attempts. Try again in {minutes} min.',
    'login.unavailable': 'The system is unavailable. Please try again shortly.',
    'login.invalid': 'Enter your username and password.',
    'login.hint': 'Cashiers, the station manager and village collectives all sign in here.',
    'nav.home': 'Station home',
    'nav.logout': 'Sign out',
    'role.admin': 'Station manager',
    'role.cashier': 'Cashier',
    'role.village': 'Village collective',
    'page.admin': 'Station admin',
    'page.pos': 'Point of sale',
    'page.village': 'Village revenue',
    'page.signed_in_as': 'Signed in as {username} ({role})',
    'page.coming': 'This page is being built.',
    'error.generic': 'Something went wrong. Please try again.',
  },
};

export function language() {
  return localStorage.getItem('yz_lang') === 'en' ? 'en' : 'zh';
}

/** The text for `key` in the current language, with {name} placeholders filled. */
export function t(key, values = {}) {
  const text = dictionary[language()][key] ?? dictionary.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** Fills every [data-i18n] element and the language switch; call on load and after a switch. */
export function translatePage() {
  document.documentElement.lang = language() === 'en' ? 'en' : 'zh-CN';
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll('[data-i18n-placeholder]')) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}

/** Wires a button that toggles between Chinese and English. */
export function installLanguageSwitch(button, onChange = () => {}) {
  button.addEventListener('click', () => {
    localStorage.setItem('yz_lang', language() === 'en' ? 'zh' : 'en');
    translatePage();
    onChange();
  });
}
