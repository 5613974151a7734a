// Every page of a sales rep, customer service and finance passes axe at 1366×900 (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: staff at 1366×900', { roles: ['rep', 'customer-service', 'finance'], viewports: ['desktop'] });
