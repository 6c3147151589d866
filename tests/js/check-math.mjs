// Validates every math span of the Markdown files given as arguments with
// KaTeX (throwOnError, strict: every warning is an error) and MathJax's TeX input (errors are fatal).
// Prints "N spans ok" or each failing span with its error; exit 1 on error.
import fs from 'node:fs';
import katex from 'katex';
import { mathjax } from 'mathjax-full/js/mathjax.js';
import { TeX } from 'mathjax-full/js/input/tex.js';
import { AllPackages } from 'mathjax-full/js/input/tex/AllPackages.js';
import { liteAdaptor } from 'mathjax-full/js/adaptors/liteAdaptor.js';
import { RegisterHTMLHandler } from 'mathjax-full/js/handlers/html.js';
import { SerializedMmlVisitor } from 'mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js';

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: AllPackages.filter((p) => p !== 'bussproofs'),
  formatError: (_jax, err) => { throw err; },
});
const doc = mathjax.document('', { InputJax: tex });
const visitor = new SerializedMmlVisitor();

/** Math spans of a Markdown text: [display, tex] pairs, code excluded. */
function spans(md) {
  const out = [];
  // Drop fenced code and inline code.
  md = md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const display = /\$\$([\s\S]+?)\$\$/g;
  let rest = md.replace(display, (_m, body) => { out.push([true, body]); return ' '; });
  const inline = /(?<![\\$])\$([^$\n]+?)\$/g;
  let m;
  while ((m = inline.exec(rest)) !== null) out.push([false, m[1]]);
  return out;
}

let bad = 0;
let count = 0;
for (const file of process.argv.slice(2)) {
  const md = fs.readFileSync(file, 'utf8');
  for (const [displayMode, body] of spans(md)) {
    count++;
    try {
      katex.renderToString(body, { displayMode, throwOnError: true, strict: 'error' });
    } catch (e) {
      bad++;
      console.log(`${file}: KaTeX: ${e.message}\n  ${body.slice(0, 300)}`);
    }
    try {
      const node = doc.convert(body, { display: displayMode });
      if (!node) throw new Error('no output');
      const mml = visitor.visitTree(node);
      if (mml.includes('merror')) throw new Error(mml.slice(0, 300));
    } catch (e) {
      bad++;
      console.log(`${file}: MathJax: ${e.message}\n  ${body.slice(0, 300)}`);
    }
  }
}
console.log(`${count} spans, ${bad} errors`);
process.exit(bad ? 1 : 0);
