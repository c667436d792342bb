// unspin web page: a view over POST /v1/check. No analysis happens here; the
// page only draws Analysis.to_json() (schema unspin.analysis/1).
// Offsets in the JSON are Python str indices (code points), so the text is
// handled as an array of code points, never sliced as UTF-16.
// All input is rendered with textContent: nothing in a text can add markup.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { text: "", mode: "full", analysis: null, raw: "", selected: -1,
    selectedButton: null };

  function band(conf) {
    if (conf >= 0.9) return ["c-high", "high"];
    if (conf >= 0.7) return ["c-mid", "medium"];
    return ["c-low", "low"];
  }

  function setStatus(msg) { $("status").textContent = msg; }

  function showError(msg) {
    const box = $("error");
    box.textContent = msg;
    box.hidden = !msg;
  }

  async function reasonOf(resp) {
    try {
      const body = await resp.json();
      if (body && body.reason) return body.reason;
    } catch (_) { /* not JSON */ }
    return "the server answered " + resp.status;
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // P(substituted | spun) of a suspect, read from its "suspect" evidence line.
  function givenOf(s) {
    const e = s.evidence.find((x) => x.kind === "suspect");
    return e && typeof e.value === "number" ? e.value : s.confidence;
  }

  // A focusable button for suspect number i (Analysis.suspects: not flagged,
  // never applied, listed for review). Outlined, not coloured: it is no finding.
  function suspectButton(i, label) {
    const s = state.analysis.suspects[i];
    const b = el("button", "suspect", label);
    b.type = "button";
    b.dataset.suspect = String(i);
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", "details");
    b.setAttribute("aria-label",
      `not flagged, for review: "${s.text}", perhaps "${s.restored}" if the text is spun ` +
      `(P ${givenOf(s).toFixed(2)}); show candidates`);
    b.addEventListener("click", () => openDetails(i, b, true));
    return b;
  }

  // A focusable button for flagged span number i.
  // What the page shows as a span's restoration (Span.restored_label in Python):
  // a listed phrase whose list gives no original is flagged, not restored.
  function restoredLabel(s) {
    return s.restored !== s.text ? s.restored : "(no known original)";
  }

  function spanButton(i, label, extraCls) {
    const s = state.analysis.spans[i];
    const [cls, word] = band(s.confidence);
    const b = el("button", "span " + (extraCls || cls), label);
    b.type = "button";
    b.dataset.span = String(i);
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", "details");
    b.setAttribute("aria-label",
      `flagged "${s.text}", probably "${restoredLabel(s)}", ${word} confidence ` +
      `${s.confidence.toFixed(2)}; show candidates`);
    b.addEventListener("click", () => openDetails(i, b));
    return b;
  }

  // Fill `node` with the text, flagged spans as buttons (mode "spun") or
  // restored phrases marked (mode "restored").
  function drawText(node, mode) {
    node.replaceChildren();
    const cps = Array.from(state.text);
    const spans = state.analysis.spans;
    const edits = state.analysis.edits;
    let pos = 0;
    if (mode === "spun") {
      // Flagged spans and suspects never overlap; draw both in text order.
      const marks = spans.map((s, i) => [s, i, false]).concat(
        (state.analysis.suspects || []).map((s, i) => [s, i, true]));
      marks.sort((a, b) => a[0].start - b[0].start);
      marks.forEach(([s, i, review]) => {
        node.append(cps.slice(pos, s.start).join(""));
        const label = cps.slice(s.start, s.end).join("");
        node.append(review ? suspectButton(i, label) : spanButton(i, label));
        pos = s.end;
      });
    } else {
      edits.forEach((e) => {
        node.append(cps.slice(pos, e.start).join(""));
        const i = spans.findIndex((s) => s.start === e.start && s.end === e.end);
        if (i >= 0) {
          node.append(spanButton(i, e.new, "ins"));
        } else {
          const ins = el("ins", "", e.new);
          ins.title = "was: " + e.old;
          node.append(ins);
        }
        pos = e.end;
      });
    }
    node.append(cps.slice(pos).join(""));
  }

  function drawDiffSide(node, side) {
    node.replaceChildren();
    const cps = Array.from(state.text);
    let pos = 0;
    state.analysis.edits.forEach((e) => {
      node.append(cps.slice(pos, e.start).join(""));
      if (side === "spun") {
        const d = el("del", "", e.old);
        d.setAttribute("aria-label", "replaced: " + e.old);
        node.append(d);
      } else {
        const ins = el("ins", "", e.new);
        ins.setAttribute("aria-label", "restored: " + e.new + " (was " + e.old + ")");
        node.append(ins);
      }
      pos = e.end;
    });
    node.append(cps.slice(pos).join(""));
  }

  function drawVerdict() {
    const a = state.analysis;
    const v = $("verdict");
    v.className = "verdict " + (a.spun ? "spun" : "clean");
    $("verdict-label").textContent = a.spun ? "Likely spun" : "Probably not spun";
    $("verdict-prob").textContent = `P(spun) = ${a.score.toFixed(3)}`;
    $("meter-fill").style.width = Math.round(a.score * 100) + "%";
    const words = Math.round((a.features && a.features.words) || 0);
    const review = (a.suspects || []).length;
    $("verdict-detail").textContent =
      `${a.spans.length} flagged span(s)` + (review ? `, ${review} for review` : "") +
      ` in ${words} words; mode ${a.mode}.`;
    // Document-level evidence: boilerplate signatures, the spinner family, leaked
    // originals, and what moved P(spun) (a listed fingerprint, boilerplate).
    const docEv = $("doc-evidence");
    docEv.replaceChildren();
    (a.evidence || []).forEach((e) => docEv.append(el("li", "", `${e.kind}: ${e.detail}`)));
    docEv.hidden = !(a.evidence || []).length;
  }

  function setView(view) {
    document.querySelectorAll(".toolbar .view").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.view === view));
    });
    $("view-spun").hidden = view !== "spun";
    $("view-restored").hidden = view !== "restored";
    $("view-diff").hidden = view !== "diff";
  }

  function closeDetails() {
    $("details").hidden = true;
    document.querySelectorAll("button[aria-expanded='true']").forEach((b) => {
      b.setAttribute("aria-expanded", "false");
    });
    const back = state.selectedButton;
    state.selected = -1;
    state.selectedButton = null;
    if (back && back.offsetParent !== null) back.focus();
  }

  function openDetails(i, button, review) {
    const s = review ? state.analysis.suspects[i] : state.analysis.spans[i];
    const [, word] = band(s.confidence);
    state.selected = i;
    state.selectedButton = button;
    document.querySelectorAll("button.span, button.suspect").forEach((b) => {
      b.setAttribute("aria-expanded", String(b === button));
    });
    $("details-title").textContent = `"${s.text}" \u2192 "${restoredLabel(s)}"` +
      (review ? " (for review)" : "");
    $("details-summary").textContent = review
      ? `Not flagged and not applied: P(substituted | text spun) = ${givenOf(s).toFixed(3)}, ` +
        `confidence ${s.confidence.toFixed(3)}; characters ${s.start}\u2013${s.end}.`
      : `Confidence ${s.confidence.toFixed(3)} (${word}); characters ${s.start}\u2013${s.end}` +
        (s.listed ? "; on a published fingerprint list." : ".");
    const body = $("cand-table").tBodies[0];
    body.replaceChildren();
    s.candidates.forEach((c) => {
      const tr = el("tr", c.text === s.restored ? "chosen" : "");
      tr.append(el("td", "", c.text), el("td", "num", c.posterior.toFixed(3)),
        el("td", "num", c.score.toFixed(2)), el("td", "", c.sources.join(", ")));
      body.append(tr);
    });
    const ev = $("evidence-list");
    ev.replaceChildren();
    s.evidence.forEach((e) => ev.append(el("li", "", `${e.kind}: ${e.detail}`)));
    if (!s.evidence.length) ev.append(el("li", "", "none recorded"));
    $("details").hidden = false;
  }

  function draw() {
    drawVerdict();
    drawText($("spun-text"), "spun");
    drawText($("restored-text"), "restored");
    drawDiffSide($("diff-spun"), "spun");
    drawDiffSide($("diff-restored"), "restored");
    $("details").hidden = true;
    $("results").hidden = false;
  }

  async function check(ev) {
    ev.preventDefault();
    showError("");
    const text = $("text").value;
    const mode = $("mode").value;
    if (!text.trim()) { showError("Paste some text (or upload a file) first."); return; }
    const button = $("check");
    button.disabled = true;
    setStatus("Checking\u2026");
    try {
      const resp = await fetch("/v1/check", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, mode }),
      });
      if (!resp.ok) { showError(await reasonOf(resp)); setStatus(""); return; }
      state.raw = await resp.text();
      state.analysis = JSON.parse(state.raw);
      state.text = text;
      state.mode = mode;
      draw();
      setView("spun");
      setStatus(`Done: ${state.analysis.spans.length} flagged span(s).`);
    } catch (err) {
      showError("Could not reach the unspin service: " + err);
      setStatus("");
    } finally {
      button.disabled = false;
    }
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function downloadReport() {
    showError("");
    setStatus("Building the report\u2026");
    try {
      const resp = await fetch("/v1/report", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: state.text, mode: state.mode }),
      });
      if (!resp.ok) { showError(await reasonOf(resp)); setStatus(""); return; }
      download(await resp.blob(), "unspin-report.html");
      setStatus("Report downloaded.");
    } catch (err) {
      showError("Could not reach the unspin service: " + err);
      setStatus("");
    }
  }

  const KINDS = { txt: "txt", text: "txt", html: "html", htm: "html", pdf: "pdf" };

  async function upload() {
    const file = $("file").files[0];
    if (!file) return;
    showError("");
    const ext = (file.name.split(".").pop() || "").toLowerCase();
    const kind = KINDS[ext];
    if (!kind) { showError(`${file.name}: choose a .txt, .html or .pdf file`); return; }
    setStatus(`Extracting text from ${file.name}\u2026`);
    try {
      const resp = await fetch("/v1/extract?kind=" + kind, {
        method: "POST", headers: { "Content-Type": "application/octet-stream" },
        body: await file.arrayBuffer(),
      });
      if (!resp.ok) { showError(await reasonOf(resp)); setStatus(""); return; }
      const body = await resp.json();
      $("text").value = body.text;
      setStatus(`${file.name}: ${body.chars} characters extracted; press \u201cCheck text\u201d.`);
    } catch (err) {
      showError("Could not reach the unspin service: " + err);
      setStatus("");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("input-form").addEventListener("submit", check);
    $("file").addEventListener("change", upload);
    document.querySelectorAll(".toolbar .view").forEach((b) => {
      b.addEventListener("click", () => setView(b.dataset.view));
    });
    $("details-close").addEventListener("click", closeDetails);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("details").hidden) closeDetails();
    });
    $("dl-json").addEventListener("click", () => {
      download(new Blob([state.raw], { type: "application/json" }), "unspin-analysis.json");
    });
    $("dl-html").addEventListener("click", downloadReport);
  });
})();
