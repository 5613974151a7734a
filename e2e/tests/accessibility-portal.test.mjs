// Every page of a purchasing manager and a buyer passes axe at 1366×900 (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: portal at 1366×900', { roles: ['buyer-manager', 'buyer'], viewports: ['desktop'] });
