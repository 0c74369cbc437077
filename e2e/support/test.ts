// Every spec imports test and expect from here, so fixtures every test needs (a signed-in
// session, once sign-in exists) are added in one place.
export { expect, test } from '@playwright/test';
