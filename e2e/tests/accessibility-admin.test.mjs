// Every page of an administrator passes axe at 1366×900 (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: admin at 1366×900', { roles: ['admin'], viewports: ['desktop'] });
