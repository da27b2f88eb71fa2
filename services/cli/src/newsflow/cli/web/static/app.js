// newsflow live page: renders the server's snapshots (server-sent events from /api/events).
// Every value from an article is set as text (textContent), never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const LABELS = { PER: "person", ORG: "organisation", LOC: "place", MISC: "other" };
// Written right to left: a card in one of these is laid out so; within any card each line takes
// its own direction (CSS unicode-bidi: plaintext), as scraped boilerplate often mixes scripts.
const RTL = new Set(["ar", "fa", "he", "iw", "ur", "ps", "yi", "dv", "ug", "ckb", "sd"]);
let firstMetrics = true;
let firstArticles = true;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const fmtInt = (n) => (n === null || n === undefined ? "?" : Number(n).toLocaleString("en"));
const fmtRate = (r) => (r === null || r === undefined ? "–" : r.toFixed(1));
function fmtAge(s) {
  if (s === null || s === undefined) return "–";
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function setConnection(state, text) {
  const pill = $("connection");
  pill.dataset.state = state;
  pill.textContent = text;
}

function renderMetrics(m) {
  $("where").textContent =
    `${m.redis || ""}${m.partitions > 1 ? ` · ${m.partitions} partitions` : ""}`;
  if (m.error) setConnection("error", `Redis: ${m.error}`);
  else setConnection("live", `live · every ${m.interval_s} s`);
  for (const [name, length] of Object.entries(m.streams || {})) {
    const node = $(`len-${name}`);
    if (node) node.textContent = fmtInt(length);
  }
  const dlq = m.dlq || { total: 0, by_stage: {}, counted: 0 };
  $("len-dlq").classList.toggle("nonzero", dlq.total > 0);
  const parts = Object.entries(dlq.by_stage).sort().map(([s, n]) => `${s} ${fmtInt(n)}`);
  const partial = dlq.counted < dlq.total ? ` (of the newest ${fmtInt(dlq.counted)})` : "";
  $("dlq-by-stage").textContent = parts.length ? parts.join(" · ") + partial : "";

  const body = $("groups").tBodies[0];
  const rows = (m.groups || []).map((g) =>
    el("tr", { class: g.stage ? "stage" : "subscriber", dataset: { stage: g.stage || "", group: g.group } },
      el("td", {}, g.stage || g.group),
      el("td", { class: "muted" }, g.stream),
      el("td", { class: "num rate-now" }, fmtRate(g.per_second_now)),
      el("td", { class: "num" }, g.stage ? fmtRate(g.per_second_last_minute) : "–"),
      el("td", { class: "num lag" }, fmtInt(g.lag)),
      el("td", { class: "num pending" }, fmtInt(g.pending)),
      el("td", { class: "num" }, fmtAge(g.oldest_pending_age_s)),
      el("td", { class: `num dead${g.dead_letters ? " nonzero" : ""}` }, fmtInt(g.dead_letters)),
      el("td", { class: "num" }, fmtInt(g.consumers))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "no consumer group yet")));
  body.replaceChildren(...rows);
  if (firstMetrics) { firstMetrics = false; performance.mark("newsflow:metrics"); }
}

function highlighted(segments) {
  return segments.map((s) => {
    if (!s.label) return document.createTextNode(s.t);
    return el("mark", { class: "ent", dataset: { label: s.label }, title: LABELS[s.label] || s.label }, s.t);
  });
}

function storyLink(dedup, copies) {
  if (!dedup || !dedup.cluster_id) return null;
  const text = dedup.status === "unique"
    ? (copies ? `story: ${copies} cop${copies === 1 ? "y" : "ies"}` : "story")
    : `copy of ${dedup.cluster_id}`;
  return el("a", { class: "story-link", href: `#story/${encodeURIComponent(dedup.cluster_id)}` }, text);
}

function card(a, duplicate) {
  const lang = a.language
    ? el("span", { class: "lang", title: `confidence ${a.language.confidence}` },
        `${a.language.name || a.language.code} (${a.language.code})`)
    : null;
  const dedup = a.dedup
    ? el("span", { class: `badge ${a.dedup.status}` },
        a.dedup.status.replace("_", " ") + (a.dedup.method ? ` · ${a.dedup.method}` : ""))
    : null;
  const ents = a.entities;
  const model = ents
    ? el("span", { class: "model" }, ents.status === "ok" ? ents.model : `entities: ${ents.status}`)
    : null;
  const source = a.url
    ? el("a", { href: a.url, rel: "noopener noreferrer nofollow", target: "_blank" }, a.source || a.url)
    : (a.source ? el("span", {}, a.source) : null);
  const mentions = ents && ents.mentions.length
    ? el("div", { class: "mentions" }, ...ents.mentions.slice(0, 8).flatMap((m, i) => [
        i ? " · " : "",
        el("mark", { class: "ent", dataset: { label: m.label } }, m.name),
        m.count > 1 ? ` ×${m.count}` : "",
      ]))
    : null;
  const lang_code = a.language && a.language.code !== "und" ? a.language.code : null;
  const text = el("p", { class: "text" }, ...highlighted(a.text));
  if (a.text_cut) text.append(" …");
  const dir = lang_code && RTL.has(lang_code.split("-")[0]) ? "rtl" : "ltr";
  return el("article", { class: `article${duplicate ? " duplicate" : ""}`, lang: lang_code, dir, dataset: { id: a.id } },
    el("h3", {}, ...(a.title.length ? highlighted(a.title) : [a.id])),
    el("div", { class: "meta" }, lang, dedup, storyLink(a.dedup, a.copies), model, source,
      a.pipeline_s !== null && a.pipeline_s !== undefined ? el("span", {}, `${a.pipeline_s} s through the stages`) : null,
      el("span", { class: "id" }, a.id)),
    text, mentions);
}

function renderArticles(data) {
  const list = data.articles || [];
  if (!list.length) return;
  $("articles").replaceChildren(...list.map((a) => card(a, false)));
  if (firstArticles) { firstArticles = false; performance.mark("newsflow:articles"); }
}

async function showStory() {
  const section = $("story");
  const m = location.hash.match(/^#story\/(.+)$/);
  if (!m) { section.hidden = true; return; }
  const id = decodeURIComponent(m[1]);
  $("story-id").textContent = id;
  section.hidden = false;
  const response = await fetch(`/api/story/${encodeURIComponent(id)}`);
  if (!response.ok) {
    $("story-note").textContent = "No article of this story is among the latest the page holds.";
    $("story-articles").replaceChildren();
    return;
  }
  const story = await response.json();
  const n = story.copies.length;
  $("story-note").textContent =
    `${story.head ? "First article" : "The first article is no longer among the latest"} and ` +
    `${n} cop${n === 1 ? "y" : "ies"} the dedup stage caught (among the latest ${story.held} events).`;
  $("story-articles").replaceChildren(
    ...(story.head ? [card(story.head, false)] : []), ...story.copies.map((c) => card(c, true)));
  section.scrollIntoView({ block: "nearest" });
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("metrics", (e) => renderMetrics(JSON.parse(e.data)));
  source.addEventListener("articles", (e) => renderArticles(JSON.parse(e.data)));
  source.onerror = () => setConnection("error", "reconnecting…");
}

window.addEventListener("hashchange", showStory);
document.addEventListener("click", (e) => {
  if (e.target.matches("#story .close")) { e.preventDefault(); history.pushState("", "", location.pathname); showStory(); }
});
connect();
showStory();
