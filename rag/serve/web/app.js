// The rag web page: ask (streamed draft, each section once checked, then the validated answer
// with clickable [n]), check a text (each claim's verdict as it is settled, with its passages),
// and sources (index state, list, admin upload/delete/rebuild). Text from sources and models
// is only ever set as textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const STATUS_NOTE = {
  accepted: "Every cited sentence is backed by the passage it cites.",
  repaired: "Some sentences of the draft did not hold up; they were fixed or cut (listed below).",
  abstained: "The sources do not support an answer; what they do say, if anything, is below.",
  unvalidated: "Not checked.",
};
const CITE = /\[(\d+(?:\s*[,\u2013-]\s*\d+)*)\]/g;
let current = null; // the Answer on screen
let sourceOffset = 0;
const PAGE = 50;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.message ? body.message : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

function adminHeaders() {
  const token = $("token").value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// -- health and navigation -------------------------------------------------------------------
async function refreshHealth() {
  try {
    const response = await fetch("/healthz");
    const h = await response.json();
    $("health").textContent = h.ready
      ? `index version ${h.index_version} · ${h.sources} sources · ${h.passages} passages · ` +
        `answers by ${h.llm_model} · checks: ${h.validate_mode}`
      : h.state === "no_index"
        ? "no index yet: upload sources on the Sources page"
        : "starting…";
    $("admin").hidden = !h.admin;
  } catch (e) {
    $("health").textContent = "server not reachable";
  }
}

function route() {
  const hash = location.hash || "#ask";
  const sources = hash.startsWith("#sources");
  const checking = hash.startsWith("#check");
  $("view-ask").hidden = sources || checking;
  $("view-check").hidden = !checking;
  $("view-sources").hidden = !sources;
  $("nav-ask").classList.toggle("current", !sources && !checking);
  $("nav-check").classList.toggle("current", checking);
  $("nav-sources").classList.toggle("current", sources);
  if (sources) {
    loadIndexState();
    loadSources(sourceOffset);
    const id = hash.slice("#sources/".length);
    if (hash.startsWith("#sources/") && id) showSource(decodeURIComponent(id));
  }
}

// -- asking ------------------------------------------------------------------------------------
async function ask(question) {
  $("ask-button").disabled = true;
  $("answer").hidden = true;
  closePassage();
  $("draft").hidden = false;
  $("draft-text").textContent = "";
  $("checked").hidden = true;
  $("checked-sections").replaceChildren();
  current = null;
  $("progress").textContent = "sending…";
  $("progress").classList.remove("error");
  try {
    const response = await fetch("/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message || `HTTP ${response.status}`);
    }
    await readEvents(response.body, handleEvent);
  } catch (e) {
    showError(e.message);
  } finally {
    $("ask-button").disabled = false;
  }
}

async function readEvents(stream, onEvent) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

function handleEvent(name, data) {
  if (name === "progress") $("progress").textContent = data.message;
  else if (name === "token") {
    if ($("draft-text").textContent === "") $("progress").textContent = "writing the draft…";
    $("draft-text").append(data.text);
  } else if (name === "section") {
    // A checked section replaces its draft; its citations open like the answer's.
    const seen = current ? current.citations : [];
    current = { citations: [...seen, ...data.citations.filter((c) => !seen.some((s) => s.n === c.n))], hits: [] };
    $("checked").hidden = false;
    $("checked-sections").append(
      el("h3", { class: "checked-heading", text: `${data.n}. ${data.heading}` }),
      paragraphs(data.text),
    );
    $("draft-text").textContent = "";
  } else if (name === "answer") {
    $("progress").textContent = "";
    $("draft").hidden = true;
    $("checked").hidden = true;
    renderAnswer(data);
  } else if (name === "error") showError(data.message);
}

function showError(message) {
  $("progress").textContent = message;
  $("progress").classList.add("error");
}

function withCitations(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(CITE)) {
    out.append(text.slice(last, match.index));
    const numbers = match[1].split(/\s*[,\u2013-]\s*/).map(Number);
    numbers.forEach((n) => {
      const link = el("a", { class: "cite", href: `#cite-${n}`, "data-n": String(n), text: `[${n}]` });
      link.addEventListener("click", (event) => {
        event.preventDefault();
        showPassage(n, link);
      });
      out.append(link);
    });
    last = match.index + match[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function paragraphs(text) {
  const out = document.createDocumentFragment();
  for (const block of text.split(/\n\s*\n|\n(?=\s*[-*\u2022] )/)) {
    if (block.trim()) out.append(el("p", {}, withCitations(block.trim().replace(/^[-*\u2022]\s+/, ""))));
  }
  return out;
}

function renderAnswer(answer) {
  current = answer;
  const article = $("answer");
  article.replaceChildren();
  article.hidden = false;
  article.append(
    el("p", {}, el("span", { class: `status ${answer.status}`, id: "answer-status", text: answer.status })),
    el("p", { class: "status-note muted", text: STATUS_NOTE[answer.status] || "" }),
  );
  const s = answer.sections;
  const part = (title, text) => {
    if (text && text.trim()) article.append(el("h2", { text: title }), paragraphs(text));
  };
  part("Executive summary", s.summary);
  s.sections.forEach((section, i) => part(`${i + 1}. ${section.heading}`, section.text));
  part("Bottom line", s.bottom_line);
  part("What the sources cannot settle", s.limits);
  if (s.follow_ups.length) {
    article.append(el("h2", { text: "Follow-up questions" }));
    article.append(el("ul", {}, ...s.follow_ups.map((q) => el("li", { text: q }))));
  }
  if (!s.summary && !s.sections.length && !s.bottom_line) article.append(paragraphs(answer.text));
  if (answer.citations.length) {
    article.append(el("h2", { text: "Sources cited" }));
    article.append(
      el(
        "ol",
        { class: "sources-cited" },
        ...answer.citations.map((c) => {
          const item = el("li", { value: String(c.n) });
          const link = el("a", { href: `#cite-${c.n}`, class: "cite-source", text: c.title });
          link.addEventListener("click", (event) => {
            event.preventDefault();
            showPassage(c.n, link);
          });
          item.append(link, el("span", { class: "muted", text: c.date ? ` · ${c.date}` : "" }));
          return item;
        }),
      ),
    );
  }
  if (answer.dropped_sentences.length) {
    const cut = el("details", {}, el("summary", { text: `Cut by the validator (${answer.dropped_sentences.length})` }));
    answer.dropped_sentences.forEach((c) =>
      cut.append(el("p", { class: "cut", text: `${c.text} (${c.reason || c.problem})` })),
    );
    article.append(cut);
  }
  (answer.notes || []).forEach((note) => article.append(el("p", { class: "note", text: `Note: ${note}` })));
  const t = answer.timings;
  article.append(
    el("p", {
      class: "muted",
      text: `${answer.model} · ${answer.prompt_version} · index version ${answer.index_version} · ` +
        `checked ${answer.checked_on} · ${t.total != null ? t.total.toFixed(1) : "?"} s`,
    }),
  );
}

function showPassage(n, link) {
  if (!current) return;
  const citation = current.citations.find((c) => c.n === n);
  if (!citation) return;
  const hit = current.hits.find((h) => h.passage_id === citation.passage_id);
  document.querySelectorAll("a.cite.active").forEach((a) => a.classList.remove("active"));
  if (link) link.classList.add("active");
  $("passage-title").textContent = `[${n}] ${citation.title}`;
  const meta = [citation.date, citation.source_id].filter(Boolean).join(" · ");
  $("passage-meta").replaceChildren(meta);
  if (citation.url) {
    $("passage-meta").append(" · ", el("a", { href: citation.url, rel: "noopener noreferrer", target: "_blank", text: "web" }));
  }
  const text = hit ? hit.text : citation.quote;
  const at = citation.quote ? text.indexOf(citation.quote) : -1;
  const quote = $("passage-text");
  quote.replaceChildren();
  if (at >= 0) {
    quote.append(text.slice(0, at), el("mark", { text: citation.quote }), text.slice(at + citation.quote.length));
  } else quote.append(text);
  $("passage-source").href = `#sources/${encodeURIComponent(citation.source_id)}`;
  $("passage").hidden = false;
  $("result").classList.add("with-passage");
}

function closePassage() {
  $("passage").hidden = true;
  $("result").classList.remove("with-passage");
}

// -- checking a text ---------------------------------------------------------------------------
const VERDICT = { supported: "supported", contradicted: "contradicted", not_found: "not found in the sources" };

async function check(text) {
  $("check-button").disabled = true;
  $("check-result").hidden = false;
  $("claims").replaceChildren();
  $("check-summary").replaceChildren();
  $("check-progress").textContent = "searching the sources for each claim…";
  $("check-progress").classList.remove("error");
  try {
    const response = await fetch("/check", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ text }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message || `HTTP ${response.status}`);
    }
    await readEvents(response.body, (name, data) => {
      if (name === "claim") $("claims").append(claimItem(data));
      else if (name === "check") showCheck(data);
      else if (name === "error") throw new Error(data.message);
    });
  } catch (e) {
    $("check-progress").textContent = e.message;
    $("check-progress").classList.add("error");
  } finally {
    $("check-button").disabled = false;
  }
}

function claimItem(claim) {
  // Each passage behind a verdict, quoted: the reader sees what the verdict rests on.
  const item = el("li", { class: "claim", value: String(claim.n) },
    el("span", { class: `verdict ${claim.verdict}`, text: VERDICT[claim.verdict] }), " ", claim.text);
  for (const c of claim.citations) {
    item.append(el("blockquote", { text: `${c.title}${c.date ? ` (${c.date})` : ""}: “${c.quote}”` }));
  }
  if (!claim.citations.length && claim.closest) {
    item.append(el("p", { class: "muted", text: `closest passage read: ${claim.closest.title}: “${claim.closest.quote}”` }));
  }
  return item;
}

function showCheck(report) {
  const n = report.counts;
  $("check-progress").textContent = `${report.claims.length} claims checked: ${n.supported} supported, ` +
    `${n.contradicted} contradicted, ${n.not_found} not found (index version ${report.index_version}, checks: ${report.validate_mode})`;
  $("claims").replaceChildren(...report.claims.map(claimItem));
  const bottom = report.summary.split("## Bottom line\n")[1];
  if (bottom) $("check-summary").replaceChildren(el("h2", { text: "Bottom line" }), el("p", { text: bottom.split("\n")[0] }));
}

// -- sources -----------------------------------------------------------------------------------
async function loadIndexState() {
  try {
    const state = await api("/index");
    const facts = $("index-state");
    facts.replaceChildren();
    const add = (k, v) => facts.append(el("dt", { text: k }), el("dd", { text: String(v) }));
    add("version served", state.index_version ?? "none");
    add("sources", state.sources);
    add("passages", state.passages);
    add("building", state.building ? "yes" : "no");
    $("jobs").replaceChildren(
      ...state.jobs.slice(0, 5).map((job) => {
        const progress = job.state === "running" && job.total ? ` ${job.task}: ${job.done}/${job.total}` : "";
        const outcome = job.error ? ` ${job.error}` : job.report ? ` published version ${job.report.version}` : "";
        return el("p", { class: `job ${job.state === "failed" ? "error" : ""}`, text: `job ${job.id} (${job.kind}): ${job.state}${progress}${outcome}` });
      }),
    );
    if (state.building) setTimeout(() => { loadIndexState(); }, 1000);
    else if (state.jobs.length && state.jobs[0].state === "done") { loadSources(sourceOffset); refreshHealth(); }
  } catch (e) {
    $("jobs").replaceChildren(el("p", { class: "error", text: e.message }));
  }
}

async function loadSources(offset) {
  try {
    const page = await api(`/sources?offset=${offset}&limit=${PAGE}`);
    sourceOffset = offset;
    $("source-count").textContent = `(${page.total}; version ${page.index_version})`;
    const admin = !!$("token").value.trim();
    $("source-table").tBodies[0].replaceChildren(
      ...page.sources.map((s) => {
        const open = el("a", { href: `#sources/${encodeURIComponent(s.id)}`, text: s.id });
        const row = el("tr", {}, el("td", {}, open), el("td", { text: s.title }), el("td", { text: s.date || "" }), el("td", { class: "num", text: String(s.passages) }));
        const cell = el("td");
        if (admin) {
          const button = el("button", { type: "button", class: "quiet", text: "Delete" });
          button.addEventListener("click", () => deleteSource(s.id));
          cell.append(button);
        }
        row.append(cell);
        return row;
      }),
    );
    $("prev-page").disabled = offset === 0;
    $("next-page").disabled = offset + PAGE >= page.total;
  } catch (e) {
    $("source-count").textContent = e.message;
    $("source-table").tBodies[0].replaceChildren();
  }
}

async function showSource(id) {
  const box = $("source-detail");
  try {
    const source = await api(`/sources/${id.split("/").map(encodeURIComponent).join("/")}`);
    box.replaceChildren(el("h2", { text: source.title }), el("p", { class: "muted", text: [source.id, source.date, source.url].filter(Boolean).join(" · ") }));
    source.passages.forEach((p) => box.append(el("blockquote", { id: `passage-${p.id}`, text: p.text })));
  } catch (e) {
    box.replaceChildren(el("p", { class: "error", text: e.message }));
  }
  box.hidden = false;
}

function adminMessage(text, error = false) {
  $("admin-message").textContent = text;
  $("admin-message").classList.toggle("error", error);
}

async function upload(event) {
  event.preventDefault();
  const files = $("upload-files").files;
  if (!files.length) return adminMessage("choose files first", true);
  const form = new FormData();
  for (const f of files) form.append("files", f);
  try {
    const result = await api("/sources", { method: "POST", headers: adminHeaders(), body: form });
    const skipped = result.skipped.length ? `; skipped: ${result.skipped.map((s) => `${s.path} (${s.reason})`).join("; ")}` : "";
    adminMessage(`saved ${result.saved.join(", ")} (${result.sources} sources); indexing as job ${result.job.id}${skipped}`);
    loadIndexState();
  } catch (e) {
    adminMessage(e.message, true);
  }
}

async function rebuild() {
  try {
    const job = await api(`/index/rebuild?full=${$("rebuild-full").checked}`, { method: "POST", headers: adminHeaders() });
    adminMessage(`rebuild queued as job ${job.id}`);
    loadIndexState();
  } catch (e) {
    adminMessage(e.message, true);
  }
}

async function deleteSource(id) {
  if (!confirm(`Remove ${id} from the index?`)) return;
  try {
    const job = await api(`/sources/${id.split("/").map(encodeURIComponent).join("/")}`, { method: "DELETE", headers: adminHeaders() });
    adminMessage(`removing ${id} as job ${job.id}`);
    loadIndexState();
  } catch (e) {
    adminMessage(e.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (question) ask(question);
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("check-text").value.trim();
    if (text) check(text);
  });
  $("passage-close").addEventListener("click", closePassage);
  $("upload-form").addEventListener("submit", upload);
  $("rebuild").addEventListener("click", rebuild);
  $("prev-page").addEventListener("click", () => loadSources(Math.max(0, sourceOffset - PAGE)));
  $("next-page").addEventListener("click", () => loadSources(sourceOffset + PAGE));
  $("token").value = sessionStorage.getItem("rag-admin-token") || "";
  $("token").addEventListener("change", () => {
    sessionStorage.setItem("rag-admin-token", $("token").value.trim());
    loadSources(sourceOffset);
  });
  window.addEventListener("hashchange", route);
  refreshHealth();
  route();
});
