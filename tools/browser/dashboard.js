// dashboard.js: drives the czar's dashboard (qserv/czar/http_dash.h) in
// Debian's headless Chromium through puppeteer-core (build/npm, installed
// by tools/deps.sh; no browser download), for qserv/czar/tests/dashboard.sh.
//
//   node dashboard.js summary      the page as USER sees it, as one JSON line:
//                                  {status, who, sections, workers, running, quotas, mobu}
//   node dashboard.js cancel ID    waits for running query ID (with its chunks),
//                                  clicks its Cancel, waits until it is gone:
//                                  {id, chunks, gone, who}
// Environment: DASH_URL (https://HOST:PORT), DASH_USER, DASH_PW, DASH_SPKI
// (base64 SHA-256 of the czar certificate's public key: the only certificate
// the browser accepts besides the system's), DASH_WAIT_RUNNING=1 (summary:
// wait for a running query first), NODE_PATH (build/npm/node_modules).
// Every wait is bounded (WAIT_MS); the browser gets a fresh profile and no
// network but the czar.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const puppeteer = require("puppeteer-core");

const WAIT_MS = 60000;
const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};

async function open() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "dash-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: WAIT_MS,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage", `--user-data-dir=${profile}`,
      `--ignore-certificate-errors-spki-list=${env("DASH_SPKI")}`],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.authenticate({ username: env("DASH_USER"), password: process.env.DASH_PW || "" });
  const close = async () => {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { page, close };
}

// Loads the page; the HTTP status, and once the first refresh is done.
async function load(page) {
  const r = await page.goto(env("DASH_URL") + "/dashboard/", { waitUntil: "domcontentloaded" });
  if (r.status() === 200) await page.waitForSelector("body[data-loaded]");
  return r.status();
}

// What the page shows now.
function scrape() {
  const rows = (sel) => [...document.querySelectorAll(sel)];
  return {
    who: document.getElementById("who")?.textContent.trim(),
    sections: rows("section").filter((s) => !s.hidden).map((s) => s.id),
    workers: document.getElementById("cluster-body")?.innerText || "",
    running: rows("#running tr[data-qid]").map((tr) => ({
      id: tr.dataset.qid, chunks: tr.querySelector("td.chunks").textContent.trim(),
      query: tr.querySelector("td.q").textContent,
    })),
    quotas: document.getElementById("quotas-body")?.innerText || "",
    mobu: document.getElementById("mobu-body")?.innerText || "",
  };
}

async function summary(page) {
  const status = await load(page);
  if (status !== 200) return { status };
  if (process.env.DASH_WAIT_RUNNING)
    await page.waitForFunction(() => document.querySelector("#running tr[data-qid]"), { polling: 250 });
  return Object.assign({ status }, await page.evaluate(scrape));
}

async function cancel(page, id) {
  const status = await load(page);
  if (status !== 200) return { status };
  const row = `#running tr[data-qid="${id}"]`;
  // its chunks counted: "done / total" with total > 0
  await page.waitForFunction((sel) => {
    const td = document.querySelector(sel + " td.chunks");
    return td && / [1-9][0-9]*$/.test(td.textContent.trim());
  }, { polling: 250 }, row);
  const chunks = await page.$eval(row + " td.chunks", (td) => td.textContent.trim());
  await page.click(`${row} button.cancel`);
  await page.waitForFunction((sel) => !document.querySelector(sel), { polling: 250 }, row);
  const who = await page.$eval("#who", (e) => e.textContent.trim());
  return { id, chunks, gone: true, who };
}

async function main() {
  const [cmd, arg] = process.argv.slice(2);
  const { page, close } = await open();
  try {
    const out = cmd === "summary" ? await summary(page) : cmd === "cancel" ? await cancel(page, arg) : null;
    if (!out) throw new Error("usage: dashboard.js summary | cancel ID");
    console.log(JSON.stringify(out));
  } finally {
    await close();
  }
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  process.exit(1);
});
