// Every page of an administrator passes axe on a 390×844 phone (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: admin on a phone', { roles: ['admin'], viewports: ['phone'] });
