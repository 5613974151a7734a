// Every page of a purchasing manager and a buyer passes axe on a 390×844 phone (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: portal on a phone', { roles: ['buyer-manager', 'buyer'], viewports: ['phone'] });
