// A screenshot of one worked step (the gradient of w5, from its heading to
// the error term δ) of a page rendered by an engine, after its math has
// been typeset: how the README's picture of a published page is made.
//
//   node screenshot.mjs PAGE.html OUT.png katex|mj3|mj2 [WIDTH]
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const [file, out, math, width] = process.argv.slice(2);
const b = await puppeteer.launch({executablePath:'/usr/bin/chromium', headless:true, userDataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-')),
  args:['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync','--allow-file-access-from-files']});
const t = await b.newPage();
await t.setViewport({width: +(width||760), height: 900, deviceScaleFactor: 1});
await t.goto('file://' + file, {waitUntil:'load'});
if (math === 'mj3') await t.evaluate(() => MathJax.startup.promise);
if (math === 'mj2') await t.evaluate(() => new Promise(d => MathJax.Hub.Queue(d)));
await t.addStyleTag({content: 'body{font-family:"Noto Sans CJK KR","DejaVu Sans",sans-serif;max-width:720px;margin:0 auto;padding:0 16px;background:#fff}'});
const box = await t.evaluate(() => {
  // The step of w5: its heading, then five displayed equations.
  const hs = [...document.querySelectorAll('h3')];
  const h = hs.find(x => /w_\{5\}|w5|w_5/.test(x.textContent) || x.id === 'dw5' || x.querySelector('#dw5')) || hs.find(x => x.textContent.includes('5'));
  const i = hs.indexOf(h);
  const r1 = h.getBoundingClientRect();
  // to the δ line: the 6th display after the heading
  const all = [...document.querySelectorAll('mjx-container[display=true], .katex-display, .MathJax_Display, .MathJax_CHTML_Display, div.MathJax_Display, .MJXc-display')];
  const after = all.filter(e => e.getBoundingClientRect().top > r1.top);
  const end = after[Math.min(4, after.length-1)].getBoundingClientRect();
  return {x: 0, y: r1.top + window.scrollY - 8, width: document.documentElement.clientWidth, height: end.bottom - r1.top + 20};
});
await t.screenshot({path: out, clip: box});
await b.close();
