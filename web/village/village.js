// A village collective's page: its own terms now; sales, settlements and statements later.
// Admins may look at any village; a village account sees only its own (the API enforces it).
import { api, formatFen } from '/assets/js/api.js';
import { localName, t } from '/assets/js/i18n.js';
import { startStaffPage } from '/assets/js/staff.js';

let villageId = null;

async function showTerms() {
  const terms = await api(`/api/v1/villages/${villageId}/terms`);
  document.querySelector('#village-name').textContent = terms.name;
  const share = formatFen(10000 - terms.commission_bps).replace('¥', '');
  document.querySelector('#village-terms').textContent =
    t('village.commission', { percent: (terms.commission_bps / 100).toFixed(2), share });
}

const user = await startStaffPage(['admin', 'village'], () => showTerms());
if (user) {
  if (user.role === 'village') {
    villageId = user.village_id;
  } else {
    const { items } = await api('/api/v1/villages');
    const select = document.querySelector('#village-select');
    for (const village of items) select.append(new Option(localName(village), village.id));
    document.querySelector('#village-picker').hidden = false;
    villageId = items[0]?.id;
    select.addEventListener('change', () => { villageId = select.value; showTerms(); });
  }
  if (villageId) await showTerms();
}
