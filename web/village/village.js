// The village page: for now the signed-in frame; its tools arrive with their issues.
import { startStaffPage } from '/assets/js/staff.js';

startStaffPage(['admin', 'village']);
