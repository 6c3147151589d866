// Renders chainrule's Markdown pages through the engines people publish
// with, each set up as its documentation says, and checks in headless
// Chromium that every math span reached the math renderer byte for byte,
// that no raw TeX is left visible, that tables are tables, that every
// in-page link resolves and that every image is found.
//
//   node engines.mjs DIR
//
// DIR/src/FLAVOR/PAGE.md are the pages of each flavor (dollar, github,
// jekyll, hugo, pandoc, commonmark); the spans of DIR/src/dollar/PAGE.md
// are the reference. Prints one line per engine ("ENGINE: N spans, M
// pages, ok" or the failures) and exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import MarkdownIt from 'markdown-it';
import texmath from 'markdown-it-texmath';
import katex from 'katex';
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkGfm from 'remark-gfm';
import remarkMath from 'remark-math';
import remarkRehype from 'remark-rehype';
import rehypeKatex from 'rehype-katex';
import rehypeStringify from 'rehype-stringify';
import puppeteer from 'puppeteer-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, 'node_modules');
const MATHJAX3 = pathToFileURL(path.join(modules, 'mathjax-full/es5/tex-chtml.js')).href;
const MATHJAX2 = pathToFileURL(path.join(modules, 'mathjax/MathJax.js')).href;
const KATEX_CSS = pathToFileURL(path.join(modules, 'katex/dist/katex.min.css')).href;

const dir = path.resolve(process.argv[2]);
const src = (flavor, page) => path.join(dir, 'src', flavor, `${page}.md`);
const pages = fs.readdirSync(path.join(dir, 'src', 'dollar'))
  .filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort();

/** The math spans of a dollar-flavor page, in order: { display, tex }. */
function spans(md) {
  const out = [];
  const lines = md.split('\n');
  let i = 0;
  if (lines[0] === '---') { i = lines.indexOf('---', 1) + 1; }
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '$$') {
      const end = lines.indexOf('$$', i + 1);
      out.push({ display: true, tex: lines.slice(i + 1, end).join('\n') });
      i = end;
      continue;
    }
    for (let j = 0; j < line.length; j++) {
      const c = line[j];
      if (c === '\\') { j++; continue; }
      if (c === '`') {
        let run = 1; while (line[j + run] === '`') run++;
        const close = line.indexOf('`'.repeat(run), j + run);
        j = close < 0 ? j + run - 1 : close + run - 1;
        continue;
      }
      if (c === '$') {
        const close = line.indexOf('$', j + 1);
        if (close > j + 1) { out.push({ display: false, tex: line.slice(j + 1, close) }); j = close; }
      }
    }
  }
  return out;
}

/** The number of tables of a Markdown page (its delimiter rows). */
const tableCount = (md) => (md.match(/^\|(?: *:?-+:? *\|)+ *$/gm) || []).length;

// ---------------------------------------------------------------- builders

const page = (title, head, body) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title}</title>${head}</head>
<body>${body}</body></html>`;

// MathJax 3 as the engines' docs set it up; `inline` and `display` are the
// delimiters the page's documentation gives.
const mathjax3 = (inline, display) => `<script>
window.MathJax = { tex: { inlineMath: ${JSON.stringify(inline)}, displayMath: ${JSON.stringify(display)} } };
</script>
<script id="MathJax-script" src="${MATHJAX3}"></script>`;
const DOLLARS = [['$', '$'], ['\\(', '\\)']];
const DISPLAYS = [['$$', '$$'], ['\\[', '\\]']];

// The classic MathJax 2 configuration of Jekyll blog tutorials: `$` and `$$` only.
const mathjax2DollarsOnly = `<script type="text/x-mathjax-config">
MathJax.Hub.Config({ tex2jax: { inlineMath: [['$','$']], displayMath: [['$$','$$']], processEscapes: true },
  messageStyle: "none" });
</script>
<script src="${MATHJAX2}?config=TeX-AMS_CHTML"></script>`;

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** Copies the images of `flavor`'s pages (`src/FLAVOR/img`) to `dest/img`. */
function images(flavor, dest) {
  const from = path.join(dir, 'src', flavor, 'img');
  if (fs.existsSync(from)) fs.cpSync(from, path.join(dest, 'img'), { recursive: true });
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...opts });
}

/** Each engine: its name, flavor, the HTML files it made per page, and how math is read back. */
function build() {
  const out = dir + '/out';
  fs.rmSync(out, { recursive: true, force: true });
  const engines = [];
  const read = (flavor, p) => fs.readFileSync(src(flavor, p), 'utf8');

  // markdown-it + markdown-it-texmath (KaTeX), as texmath's README sets it up.
  {
    const md = MarkdownIt({ html: true }).use(texmath, { engine: katex, delimiters: 'dollars', katexOptions: { strict: 'error' } });
    const files = {};
    for (const p of pages) {
      files[p] = write(`${out}/markdown-it/${p}.html`, page(p, `<link rel="stylesheet" href="${KATEX_CSS}">`, md.render(read('dollar', p))));
    }
    images('dollar', `${out}/markdown-it`);
    engines.push({ name: 'markdown-it + texmath (dollar)', flavor: 'dollar', files, math: 'katex' });
  }
  // GitLab's syntax ($`…`$, ```math) through markdown-it + texmath.
  {
    const md = MarkdownIt({ html: true }).use(texmath, { engine: katex, delimiters: 'gitlab', katexOptions: { strict: 'error' } });
    const files = {};
    for (const p of pages) {
      files[p] = write(`${out}/markdown-it-gitlab/${p}.html`, page(p, `<link rel="stylesheet" href="${KATEX_CSS}">`, md.render(read('github', p))));
    }
    images('github', `${out}/markdown-it-gitlab`);
    engines.push({ name: 'markdown-it + texmath gitlab (github)', flavor: 'github', files, math: 'katex' });
  }
  // remark-math + rehype-katex, raw HTML kept (the anchors).
  {
    const proc = unified().use(remarkParse).use(remarkGfm).use(remarkMath)
      .use(remarkRehype, { allowDangerousHtml: true }).use(rehypeKatex, { strict: 'error' })
      .use(rehypeStringify, { allowDangerousHtml: true });
    const files = {};
    for (const p of pages) {
      files[p] = write(`${out}/remark/${p}.html`, page(p, `<link rel="stylesheet" href="${KATEX_CSS}">`, String(proc.processSync(read('dollar', p)))));
    }
    images('dollar', `${out}/remark`);
    engines.push({ name: 'remark-math + rehype-katex (dollar)', flavor: 'dollar', files, math: 'katex' });
  }
  // pandoc -s --mathjax, front matter and all.
  {
    const files = {};
    for (const p of pages) {
      const f = `${out}/pandoc/${p}.html`;
      fs.mkdirSync(path.dirname(f), { recursive: true });
      run('pandoc', ['-s', '--wrap=preserve', '--mathjax=' + MATHJAX3, '-f', 'markdown', '-t', 'html5', src('pandoc', p), '-o', f]);
      files[p] = f;
    }
    images('pandoc', `${out}/pandoc`);
    engines.push({ name: 'pandoc -s --wrap=preserve --mathjax (pandoc)', flavor: 'pandoc', files, math: 'mathjax3' });
  }
  // cmark-gfm (GitHub's parser), no math support: MathJax with `$`.
  {
    const files = {};
    for (const p of pages) {
      const html = run('cmark-gfm', ['--unsafe', '-e', 'table', src('commonmark', p)]);
      files[p] = write(`${out}/cmark-gfm/${p}.html`, page(p, mathjax3(DOLLARS, DISPLAYS), html));
    }
    images('commonmark', `${out}/cmark-gfm`);
    engines.push({ name: 'cmark-gfm + MathJax 3 (commonmark)', flavor: 'commonmark', files, math: 'mathjax3' });
  }
  // cmark-gfm with GitHub's math syntax: $`…`$ and ```math, which GitHub
  // hands to MathJax as they are; the page does the same.
  {
    const files = {};
    const github = `<script>
{
  for (const code of [...document.querySelectorAll('code')]) {
    const prev = code.previousSibling, next = code.nextSibling;
    if (prev && next && prev.nodeType === 3 && next.nodeType === 3 && prev.data.endsWith('$') && next.data.startsWith('$')) {
      prev.data = prev.data.slice(0, -1); next.data = next.data.slice(1);
      code.replaceWith(document.createTextNode('\\\\(' + code.textContent + '\\\\)'));
    }
  }
  for (const pre of [...document.querySelectorAll('pre[lang=math], pre:has(> code.language-math)')]) {
    const div = document.createElement('div');
    div.textContent = '\\\\[' + pre.textContent.replace(/\\n$/, '') + '\\\\]';
    pre.replaceWith(div);
  }
}
</script>`;
    for (const p of pages) {
      const html = run('cmark-gfm', ['--unsafe', '-e', 'table', src('github', p)]);
      files[p] = write(`${out}/github/${p}.html`, page(p, mathjax3([['\\(', '\\)']], [['\\[', '\\]']]), html + github));
    }
    images('github', `${out}/github`);
    engines.push({ name: 'cmark-gfm + GitHub math syntax (github)', flavor: 'github', files, math: 'mathjax3' });
  }
  // Jekyll 4 (kramdown, GFM input, the defaults), one site, built once per
  // MathJax set-up that blog tutorials paste into the layout.
  for (const [label, head] of [['MathJax 3', mathjax3(DOLLARS, DISPLAYS)], ['MathJax 2, $ and $$ only', mathjax2DollarsOnly]]) {
    const site = `${out}/jekyll-${label.replace(/\W+/g, '-')}`;
    write(`${site}/_config.yml`, 'markdown: kramdown\ntitle: test\n');
    write(`${site}/_layouts/post.html`, page('{{ page.title }}', `{% if page.use_math %}${head}{% endif %}`, '<h1>{{ page.title }}</h1>\n{{ content }}'));
    for (const p of pages) fs.copyFileSync(src('jekyll', p), `${site}/${p}.md`);
    images('jekyll', site);
    run('jekyll', ['build', '--quiet', '-s', site, '-d', `${site}/_site`]);
    const files = {};
    for (const p of pages) files[p] = `${site}/_site/${p}.html`;
    engines.push({ name: `Jekyll + kramdown + ${label} (jekyll)`, flavor: 'jekyll', files, math: label.includes('2') ? 'mathjax2' : 'mathjax3' });
  }
  // Hugo: the "Mathematics" page of its docs (passthrough + MathJax), the
  // same site without the passthrough extension, and with KaTeX's
  // auto-render in place of MathJax.
  const KATEX = pathToFileURL(path.join(modules, 'katex/dist')).href;
  const katexAuto = `<link rel="stylesheet" href="${KATEX}/katex.min.css">
<script defer src="${KATEX}/katex.min.js"></script>
<script defer src="${KATEX}/contrib/auto-render.min.js" onload="renderMathInElement(document.body, {
  delimiters: [{left: '\\\\[', right: '\\\\]', display: true}, {left: '$$', right: '$$', display: true}, {left: '\\\\(', right: '\\\\)', display: false}],
  throwOnError: false, strict: 'error' }); window.katexDone = true;"></script>`;
  const mathjax = `<script>
MathJax = { tex: { displayMath: [['\\\\[', '\\\\]'], ['$$', '$$']], inlineMath: [['\\\\(', '\\\\)']] } };
</script>
<script id="MathJax-script" src="${MATHJAX3}"></script>`;
  for (const [passthrough, math] of [[true, 'mathjax3'], [false, 'mathjax3'], [false, 'katex-auto']]) {
    const site = `${out}/hugo-${passthrough ? 'passthrough' : 'plain'}-${math}`;
    write(`${site}/hugo.toml`, `baseURL = 'https://example.org/'
disableKinds = ['taxonomy', 'term', 'RSS', 'sitemap', 'home', 'section', '404', 'robotsTXT']
[markup.goldmark.extensions.passthrough]
enable = ${passthrough}
[markup.goldmark.extensions.passthrough.delimiters]
block = [['\\[', '\\]'], ['$$', '$$']]
inline = [['\\(', '\\)']]
[params]
math = true
`);
    write(`${site}/layouts/partials/math.html`, math === 'mathjax3' ? mathjax : katexAuto);
    write(`${site}/layouts/_default/single.html`, page('{{ .Title }}', '{{ if .Param "math" }}{{ partialCached "math.html" . }}{{ end }}', '<h1>{{ .Title }}</h1>\n{{ .Content }}'));
    // Each page a bundle, its images beside it, as Hugo serves them.
    for (const p of pages) {
      write(`${site}/content/${p}/index.md`, read('hugo', p));
      images('hugo', `${site}/content/${p}`);
    }
    run('hugo', ['--quiet', '-s', site, '-d', `${site}/public`], { env: { ...process.env, HUGO_CACHEDIR: `${site}/.cache` } });
    const files = {};
    for (const p of pages) files[p] = `${site}/public/${p}/index.html`;
    const renderer = math === 'mathjax3' ? 'MathJax 3' : 'KaTeX auto-render';
    engines.push({ name: `Hugo ${passthrough ? 'with' : 'without'} passthrough + ${renderer} (hugo)`, flavor: 'hugo', files, math });
  }
  return engines;
}

// ----------------------------------------------------------------- checks

/** In the page: the TeX each math element received, visible raw TeX, tables, dead links. */
async function inspect(tab, math) {
  if (math === 'mathjax3') {
    await tab.waitForFunction(() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise), { timeout: 60000 });
    await tab.evaluate(() => MathJax.startup.promise);
  } else if (math === 'katex-auto') {
    await tab.waitForFunction(() => window.katexDone === true, { timeout: 60000 });
  } else if (math === 'mathjax2') {
    await tab.waitForFunction(() => !!(window.MathJax && MathJax.Hub && MathJax.Hub.queue), { timeout: 60000 });
    await tab.evaluate(() => new Promise((done) => MathJax.Hub.Queue(done)));
  }
  return tab.evaluate((math) => {
    let received = [];
    if (math === 'katex' || math === 'katex-auto') {
      received = [...document.querySelectorAll('annotation[encoding="application/x-tex"]')].map((a) => a.textContent);
    } else if (math === 'mathjax3') {
      for (const item of MathJax.startup.document.math) received.push(item.math);
    } else {
      received = MathJax.Hub.getAllJax().map((j) => j.originalText);
    }
    const errors = document.querySelectorAll('mjx-merror, .katex-error, .MathJax_Error, merror').length;
    const body = document.body.cloneNode(true);
    for (const el of body.querySelectorAll('mjx-container, .katex, [class^=MathJax], .MJX_Assistive_MathML, script, style, code, pre, math')) el.remove();
    const text = body.textContent;
    const raw = text.match(/\\[a-zA-Z]{2,}|\$\$|\\[()[\]]|\$[^$\s][^$]*\$|_\{/g) || [];
    const links = [...document.querySelectorAll('a[href^="#"]')].map((a) => a.getAttribute('href').slice(1));
    const dead = links.filter((id) => !document.getElementById(decodeURIComponent(id)) && !document.getElementsByName(id).length);
    const broken = [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.getAttribute('src'));
    return { received, errors, raw: raw.slice(0, 5), tables: document.querySelectorAll('table').length, links: links.length, dead,
      images: document.images.length, broken };
  }, math);
}

const engines = build();
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  userDataDir: fs.mkdtempSync(path.join(dir, 'chromium-')),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'],
});
let failed = 0;
const summary = [];
try {
  const tab = await browser.newPage();
  for (const engine of engines) {
    let count = 0, links = 0, images = 0;
    const problems = [];
    for (const p of pages) {
      const want = spans(fs.readFileSync(src('dollar', p), 'utf8')).map((s) => s.tex.trim());
      const tables = tableCount(fs.readFileSync(src('dollar', p), 'utf8'));
      await tab.goto(pathToFileURL(engine.files[p]).href, { waitUntil: 'load', timeout: 60000 });
      const got = await inspect(tab, engine.math);
      const received = got.received.map((t) => t.trim());
      count += received.length;
      links += got.links;
      if (received.length !== want.length) problems.push(`${p}: ${received.length} spans reached the renderer, the page has ${want.length}`);
      const n = Math.min(received.length, want.length);
      for (let i = 0; i < n; i++) {
        if (received[i] !== want[i]) {
          problems.push(`${p}: span ${i + 1} arrived as\n    ${JSON.stringify(received[i].slice(0, 200))}\n  instead of\n    ${JSON.stringify(want[i].slice(0, 200))}`);
          break;
        }
      }
      if (got.errors) problems.push(`${p}: ${got.errors} math errors shown`);
      if (got.raw.length) problems.push(`${p}: raw TeX visible: ${got.raw.join(' | ')}`);
      if (got.tables !== tables) problems.push(`${p}: ${got.tables} tables, the page has ${tables}`);
      images += got.images;
      if (got.broken.length) problems.push(`${p}: images not found: ${got.broken.join(', ')}`);
      if (got.dead.length) problems.push(`${p}: ${got.dead.length} of ${got.links} in-page links lead nowhere (#${got.dead.slice(0, 3).join(', #')})`);
    }
    summary.push({ engine: engine.name, spans: count, pages: pages.length, links, images, problems: problems.length });
    if (problems.length) {
      failed++;
      console.log(`${engine.name}: FAILED\n  ${problems.slice(0, 8).join('\n  ')}`);
    } else {
      console.log(`${engine.name}: ${count} spans, ${links} links, ${images} images, ${pages.length} pages, ok`);
    }
  }
} finally {
  await browser.close();
}
fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 1));
process.exit(failed ? 1 : 0);
