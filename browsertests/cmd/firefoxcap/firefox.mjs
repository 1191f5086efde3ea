// Drives Firefox ESR (WebDriver BiDi, through puppeteer-core) to the page
// firefoxcap serves, with SSLKEYLOGFILE set, waits until the page's
// WebSocket closed, and prints what the page logged it sent, as JSON.
// Usage: node firefox.mjs URL KEYLOG
import puppeteer from 'puppeteer-core';

const [url, keys] = process.argv.slice(2);
const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
  headless: true,
  acceptInsecureCerts: true, // the server's self-signed certificate
  env: { ...process.env, SSLKEYLOGFILE: keys },
  extraPrefsFirefox: { 'network.proxy.type': 0 },
});
try {
  const page = await browser.newPage();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction('window.done === true || window.error !== ""', { timeout: 60000 });
  const r = await page.evaluate(() => ({ sent: window.sent, error: window.error, ua: navigator.userAgent }));
  if (r.error) throw new Error(r.error);
  process.stdout.write(JSON.stringify(r) + '\n');
} finally {
  await browser.close();
}
