// dash.js: the dashboard's behaviour (http_dash.h).  Reads the czar's
// /dashboard/api/* JSON with the credentials the browser logged in with,
// builds every element with the DOM (never innerHTML: query texts and
// names are data, not markup), refreshes every 2 s.  Admin views appear
// only for admin users (the czar refuses them to others anyway).
"use strict";

const $ = (id) => document.getElementById(id);
let me = null;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k instanceof Node ? k : String(k ?? ""));
  return e;
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, opts || {}));
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  return { status: r.status, j };
}

function fill(id, ...kids) {
  const e = $(id);
  e.replaceChildren(...kids);
}

function fail(msg) { return el("p", { class: "err" }, msg); }

function when(t) { return t ? new Date(t * 1000).toLocaleString() : ""; }

// Any JSON as readable elements: arrays of objects as tables, objects as
// key / value tables, the rest as text.
function render(v) {
  if (Array.isArray(v)) {
    if (!v.length) return el("span", { class: "muted" }, "none");
    if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
      const cols = [...new Set(v.flatMap((x) => Object.keys(x)))];
      return el("table", {}, el("tr", {}, ...cols.map((c) => el("th", {}, c))),
        ...v.map((x) => el("tr", {}, ...cols.map((c) => cell(c, x[c])))));
    }
    return el("span", {}, v.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join(", "));
  }
  if (v && typeof v === "object")
    return el("table", {}, ...Object.entries(v).map(([k, x]) => el("tr", {}, el("th", {}, k), cell(k, x))));
  return el("span", {}, v === null || v === undefined ? "" : String(v));
}

function cell(k, x) {
  const td = el("td", {}, x && typeof x === "object" ? render(x) : x === null || x === undefined ? "" : String(x));
  if (k === "state" || k === "status") td.classList.add("state-" + String(x).toLowerCase());
  return td;
}

// ---- queries ----------------------------------------------------------------

async function cancel(id) {
  const r = await api("/dashboard/api/cancel/" + id, { method: "POST", headers: { "X-Qserv-Dashboard": "1" } });
  $("who").dataset.last = r.j && r.j.success ? "cancelled " + id : "cancel failed: " + (r.j ? r.j.error : r.status);
  refresh();
}

function runningRow(q) {
  const total = q.chunks || 0, done = q.chunks_done || 0;
  const btn = el("button", { type: "button", class: "cancel", "data-qid": q.id }, "Cancel");
  btn.addEventListener("click", () => cancel(q.id));
  return el("tr", { "data-qid": q.id },
    el("td", {}, q.id), el("td", {}, q.type), el("td", {}, q.user), el("td", {}, when(q.submitted)),
    el("td", { class: "chunks" }, el("progress", { max: total || 1, value: done }), ` ${done} / ${total}`),
    el("td", { class: "q" }, q.query), el("td", {}, btn));
}

function historyRow(q) {
  return el("tr", { "data-qid": q.id },
    el("td", {}, q.id), el("td", {}, q.type), el("td", {}, q.user), cell("status", q.status),
    el("td", {}, when(q.submitted)), el("td", {}, when(q.completed)), el("td", {}, `${q.chunks_done} / ${q.chunks}`),
    el("td", {}, q.rows), el("td", { class: "q" }, q.query), el("td", { class: "err" }, q.error));
}

function headed(cols, rows) {
  return el("table", {}, el("tr", {}, ...cols.map((c) => el("th", {}, c))), ...rows);
}

async function queries() {
  const r = await api("/dashboard/api/queries");
  if (!r.j || !r.j.success) {
    fill("running", fail("queries: " + (r.j ? r.j.error : "HTTP " + r.status)));
    return;
  }
  const run = r.j.running, hist = r.j.history;
  fill("running", run.length ? headed(["id", "type", "user", "submitted", "chunks done / total", "query", ""],
    run.map(runningRow)) : el("p", { class: "muted" }, "no query is running"));
  fill("history", hist.length ? headed(["id", "type", "user", "status", "submitted", "completed", "chunks", "rows",
    "query", "error"], hist.map(historyRow)) : el("p", { class: "muted" }, "no query yet"));
}

// ---- admin views ---------------------------------------------------------------

async function adminView(name, show) {
  const r = await api("/dashboard/api/" + name);
  if (!r.j || !r.j.success) {
    fill(name + "-body", fail((r.j && r.j.error) || "HTTP " + r.status));
    return;
  }
  for (const k of ["success", "error", "error_ext", "warning"]) delete r.j[k];
  fill(name + "-body", show ? show(r.j) : render(r.j));
}

// A registry node: who it is, its state, and what its heartbeats report
// (role processes, storage: disks and pools, boot slot, image version).
function nodeRow(n) {
  const h = n.health || {};
  return {
    name: n.name, role: n.role, state: n.state, addr: n.addr, zone: n.zone,
    last_seen_s: n.last_seen_ms_ago === null || n.last_seen_ms_ago === undefined ? "" : Math.round(n.last_seen_ms_ago / 1000),
    role_state: h.role_state ?? "", load1: h.load1 ?? "",
    boot_slot: h.boot_slot ?? n.boot_slot ?? "", image_version: h.image_version ?? n.image_version ?? "",
    storage: h.storage ?? "",
  };
}

function clusterView(j) {
  if (j.source === "registry")
    return el("div", { id: "nodes" }, el("p", { class: "muted" }, `from the registry, map version ${j.map_version}`),
      render((j.nodes || []).map(nodeRow)));
  const health = Object.fromEntries((j.health || []).map((w) => [w.id, w]));
  const rows = (j.workers || []).map((w) => Object.assign({}, w, health[w.id || w.worker] || {}));
  return el("div", { id: "workers" }, el("p", { class: "muted" }, "from the controller (no registry configured)"),
    render(rows.length ? rows : j.health || []));
}

function replicationView(j) {
  const s = j.status || {};
  return el("div", {}, el("p", {}, `replication level ${s.level}`),
    el("h3", {}, "databases (under-replicated chunks)"), render(s.databases || []),
    el("h3", {}, "workers"), render(s.workers || []),
    el("h3", {}, "healing"), render(s.health || {}), render({ rebalance: s.rebalance, trim: s.trim, verify: s.verify }));
}

function ingestView(j) {
  return el("div", {}, el("h3", {}, "databases"), render(j.databases || []),
    el("h3", {}, "transactions"), render(j.transactions || []),
    el("h3", {}, "contributions (latest transactions)"), render(j.contributions || []));
}

// qserv-mobu's Prometheus series, one row per flock.
function mobuView(j) {
  const f = {};
  for (const line of (j.metrics || "").split("\n")) {
    const m = /^qserv_mobu_(runs_total|latency_ms)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const l = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const r = (f[l.flock] = f[l.flock] || { flock: l.flock, business: "", successes: 0, failures: 0, p50_ms: "", p95_ms: "" });
    if (l.business) r.business = l.business;
    if (m[1] === "runs_total") r[l.result === "success" ? "successes" : "failures"] = Number(m[3]);
    else if (l.quantile === "0.5") r.p50_ms = m[3];
    else if (l.quantile === "0.95") r.p95_ms = m[3];
  }
  return render(Object.values(f));
}

async function quotas() {
  const r = await api("/quota");
  if (r.status === 404) fill("quotas-body", el("p", { class: "muted", id: "quota-off" }, "quotas not configured"));
  else if (r.status === 200 && r.j) {
    for (const k of ["success", "error", "error_ext", "warning"]) delete r.j[k];
    fill("quotas-body", render(r.j));
  } else fill("quotas-body", fail("quotas: HTTP " + r.status));
}

// ---- the page -------------------------------------------------------------------

async function refresh() {
  try {
    if (!me) {
      const r = await api("/dashboard/api/me");
      if (!r.j || !r.j.success) throw new Error("who am I: HTTP " + r.status);
      me = r.j;
      for (const s of document.querySelectorAll("section.admin")) s.hidden = !me.admin;
    }
    $("who").textContent = `${me.user}${me.admin ? " (admin)" : ""} ${$("who").dataset.last || ""}`;
    const work = [queries()];
    if (me.admin)
      work.push(adminView("cluster", clusterView), adminView("replication", replicationView),
        adminView("ingest", ingestView), adminView("mobu", mobuView), quotas());
    await Promise.all(work);
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    $("who").textContent = String(e);
  }
}

let busy = false;
async function tick() {
  if (busy) return;
  busy = true;
  try { await refresh(); } finally { busy = false; }
}

document.addEventListener("DOMContentLoaded", () => {
  $("refresh").addEventListener("click", tick);
  tick();
  setInterval(() => { if ($("auto").checked) tick(); }, 2000);
});
