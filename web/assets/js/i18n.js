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
    'nav.search': '搜索',
    'nav.search_placeholder': '搜索茶叶、花生、土笋冻…',
    'nav.login': '员工登录',
    'nav.all_products': '全部商品',
    'home.hero_title': '各村好物，一站汇聚',
    'home.hero_text': '安海镇九个村和社区把自家的茶叶、海味、蜜饯和手艺交给驿站统一销售，每一笔都按约定分给村集体。',
    'home.villages': '成员村',
    'home.featured': '推荐好物',
    'home.categories': '分类逛逛',
    'village.products': '本村商品',
    'village.contact': '联系',
    'list.results': '共 {total} 件商品',
    'list.none': '没有找到相关商品，换个词试试。',
    'list.search_for': '“{q}”的搜索结果',
    'list.prev': '上一页',
    'list.next': '下一页',
    'list.page': '第 {page} / {pages} 页',
    'product.per_piece': '/ 件',
    'product.per_jin': '/ 斤（500 克）',
    'product.per_kg': '每公斤 {price}',
    'product.by_weight': '称重销售，按实际克数计价',
    'product.village': '产地村',
    'product.origin': '产地与做法',
    'product.category': '分类',
    'product.shelf_life': '保质期',
    'product.days': '{days} 天',
    'product.no_shelf_life': '不适用',
    'product.sku': '货号',
    'product.barcode': '条码',
    'product.add_to_cart': '加入购物车（即将开通）',
    'product.not_found': '这件商品不存在或已下架。',
    'footer.text': '安海镇乡村联盟驿站 · 晋江市安海镇 · 营业时间 8:30–20:30（北京时间）',
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
    'nav.search': 'Search',
    'nav.search_placeholder': 'Search tea, peanuts, sea-worm jelly…',
    'nav.login': 'Staff sign-in',
    'nav.all_products': 'All products',
    'home.hero_title': "The villages' best, in one place",
    'home.hero_text': "Nine villages and communities of Anhai sell their tea, dried seafood, preserved fruit and crafts through the station, and every sale pays the village collective its agreed share.",
    'home.villages': 'Member villages',
    'home.featured': 'Featured',
    'home.categories': 'Browse by category',
    'village.products': "This village's products",
    'village.contact': 'Contact',
    'list.results': '{total} products',
    'list.none': 'Nothing found. Try another word.',
    'list.search_for': 'Results for “{q}”',
    'list.prev': 'Previous',
    'list.next': 'Next',
    'list.page': 'Page {page} of {pages}',
    'product.per_piece': '/ piece',
    'product.per_jin': '/ 500 g',
    'product.per_kg': '{price} per kg',
    'product.by_weight': 'Sold by weight; you pay for the grams you get',
    'product.village': 'Village',
    'product.origin': 'Origin and making',
    'product.category': 'Category',
    'product.shelf_life': 'Shelf life',
    'product.days': '{days} days',
    'product.no_shelf_life': 'n/a',
    'product.sku': 'SKU',
    'product.barcode': 'Barcode',
    'product.add_to_cart': 'Add to cart (coming soon)',
    'product.not_found': 'This product does not exist or is no longer sold.',
    'footer.text': 'Anhai Rural Alliance Station · Anhai, Jinjiang · open 8:30–20:30 (Beijing time)',
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

/** A record's name in the current language: `name_en` when English is chosen and present. */
export function localName(record) {
  return language() === 'en' && record.name_en ? record.name_en : record.name;
}

/** Wires a button that toggles between Chinese and English. */
export function installLanguageSwitch(button, onChange = () => {}) {
  button.addEventListener('click', () => {
    localStorage.setItem('yz_lang', language() === 'en' ? 'zh' : 'en');
    translatePage();
    onChange();
  });
}
