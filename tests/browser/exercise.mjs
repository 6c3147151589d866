// Drives an exercise page in headless Chromium (Debian's, through
// puppeteer-core) as a student would: types values into boxes, leaves them,
// reads the verdicts, reloads. Reads a scenario as JSON on stdin:
//   { "page": "/abs/path.html",
//     "steps": [ { "group": "main", "type": { "net_h1": "0.3775" } },
//                { "reload": true },
//                { "group": "s2", "select": true } ] }
// and prints, as JSON: the verdict of every box after each step, the
// requests the page made, and the values of the boxes after a reload.
import puppeteer from "puppeteer-core";

const scenario = JSON.parse(await new Promise((resolve) => {
  let s = "";
  process.stdin.on("data", (d) => (s += d));
  process.stdin.on("end", () => resolve(s));
}));

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--allow-file-access-from-files",
  ],
});
const result = { steps: [], requests: [], errors: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  page.on("request", (r) => {
    if (r.url() !== "file://" + scenario.page) result.requests.push(r.url());
  });
  page.on("pageerror", (e) => result.errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") result.errors.push(m.text());
  });
  page.on("dialog", (d) => d.accept());
  await page.goto("file://" + scenario.page, { waitUntil: "load" });

  const verdicts = (group) =>
    page.evaluate((group) => {
      const g = document.querySelector(`.group[data-group="${group}"]`);
      const out = {};
      for (const input of g.querySelectorAll("input[data-quantity]")) {
        const name = input.dataset.quantity;
        const v = g.querySelector(`[data-verdict-for="${CSS.escape(name)}"]`);
        out[name] = { value: input.value, ok: v.dataset.ok, diagnosis: v.dataset.diagnosis, text: v.textContent };
      }
      return out;
    }, group);

  for (const step of scenario.steps) {
    const group = step.group || "main";
    if (step.reload) {
      await page.reload({ waitUntil: "load" });
    }
    if (step.select) {
      await page.select("#group", group);
    }
    if (step.type) {
      for (const [name, text] of Object.entries(step.type)) {
        const sel = `.group[data-group="${group}"] input[data-quantity="${name}"]`;
        const el = await page.$(sel);
        if (!el) {
          result.errors.push(`no box ${name} in ${group}`);
          continue;
        }
        await el.evaluate((e) => (e.value = ""));
        await el.focus();
        await el.type(text);
        // Leaving the box (Tab) fires `change`, as for a student.
        await page.keyboard.press("Tab");
      }
    }
    if (step.keyboard) {
      // Enter in the first box moves the focus to the next one.
      const first = await page.$(`.group[data-group="${group}"] input[data-quantity]`);
      await first.evaluate((e) => (e.value = ""));
      await first.focus();
      await page.keyboard.type(step.keyboard);
      await page.keyboard.press("Enter");
      result.focused = await page.evaluate(() => document.activeElement.dataset.quantity || "");
      result.live = await page.evaluate(() => document.getElementById("live").textContent);
    }
    if (step.hint) {
      const sel = `.group[data-group="${group}"] section.part:nth-of-type(${step.hint}) button.hint`;
      await page.click(sel);
      result.revealed = await page.evaluate((s) => {
        const part = document.querySelector(s).closest("section.part");
        return Array.from(part.querySelectorAll(".block")).filter((b) => !b.hidden).length;
      }, sel);
    }
    result.steps.push(await verdicts(group));
  }
  if (scenario.scroll) {
    await page.evaluate((s) => document.querySelector(s).scrollIntoView(), scenario.scroll);
  }
  if (scenario.screenshot) {
    await page.screenshot({ path: scenario.screenshot, fullPage: false });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
