// Every page of a viewer and a finance contact, and the signed-out pages, pass axe at 1366×900 and on a phone (see a11y.mjs).
import { describeAccessibility } from './a11y.mjs';

describeAccessibility('accessibility: viewer, finance contact, signed out', { roles: ['buyer-viewer', 'buyer-finance'], viewports: ['desktop', 'phone'], signedOut: true });
