// Every page of a sales rep, customer service and finance passes axe on a 390×844 phone (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: staff on a phone', { roles: ['rep', 'customer-service', 'finance'], viewports: ['phone'] });
