// The imgsvc playground: builds the options form from the service's OpenAPI
// document, sends the chosen image as raw bytes to /v1/process, and shows
// the result, the problem of a failed call, and the equivalent curl and
// Python requests calls. No libraries, no inline code (the page runs under
// a strict Content-Security-Policy).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("form");
  const fileInput = $("file");
  const drop = $("drop");
  const optionsBox = $("options");
  const optionsStatus = $("options-status");
  const keyInput = $("key");
  const runButton = $("run");
  const statusLine = $("status");
  const originalImg = $("original-img");
  const originalMeta = $("original-meta");
  const resultImg = $("result-img");
  const resultMeta = $("result-meta");
  const download = $("download");
  const warnings = $("warnings");
  const problem = $("problem");
  const problemJSON = $("problem-json");
  const copyStatus = $("copy-status");

  const keyEnv = "IMGSVC_API_KEY";

  let params = []; // the query options of /v1/process: {name, schema, description}
  let optionsLoaded = false;
  let file = null; // the chosen File
  let originalURL = "";
  let resultURL = "";
  let resultType = ""; // Content-Type of the last result
  let inFlight = null; // AbortController of the request in flight

  // ---- the options form, from /v1/openapi.json ----------------------------

  // resolve follows a local $ref ("#/components/parameters/width").
  function resolve(doc, o) {
    for (let i = 0; o && o.$ref && i < 10; i++) {
      o = o.$ref.replace(/^#\//, "").split("/")
        .reduce((a, k) => (a ? a[k.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), doc);
    }
    return o;
  }

  function processParams(doc) {
    const op = doc.paths["/v1/process"].post;
    return (op.parameters || []).map((p) => resolve(doc, p))
      .filter((p) => p && p.in === "query")
      // The page sends the image as raw bytes, which carry no overlay image,
      // so the overlay's options would only ever be refused.
      .filter((p) => !p.name.startsWith("overlay_"))
      .map((p) => ({ name: p.name, schema: resolve(doc, p.schema) || {}, description: p.description || "" }));
  }

  // appendMarkdown appends text to el, with `code` spans as <code>.
  function appendMarkdown(el, text) {
    text.split("`").forEach((part, i) => {
      if (i % 2 === 1) {
        const c = document.createElement("code");
        c.textContent = part;
        el.append(c);
      } else {
        el.append(part);
      }
    });
  }

  // shortHint keeps a description's first sentence, cut near 110 characters,
  // for the hint under a field; the whole description is its title.
  function shortHint(s) {
    const m = /^.*?\.(?=\s+[A-Z`(]|$)/s.exec(s);
    let h = m ? m[0] : s;
    if (h.length > 110) {
      const cut = Math.max(h.lastIndexOf(", ", 100), h.lastIndexOf(" (", 100), h.lastIndexOf(": ", 100));
      h = h.slice(0, cut > 40 ? cut : 100).replace(/[\s,:(]+$/, "") + " …";
      if ((h.match(/`/g) || []).length % 2 === 1) h = h.replace(/ …$/, "` …");
    }
    return h;
  }

  function option(value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  function control(p) {
    const s = p.schema;
    const def = s.default === undefined ? "" : ` (${s.default})`;
    let el;
    if (Array.isArray(s.enum) || s.type === "boolean") {
      el = document.createElement("select");
      el.append(option("", "default" + def));
      for (const v of s.enum || ["true", "false"]) el.append(option(String(v), String(v)));
    } else if (s.type === "integer" || s.type === "number") {
      el = document.createElement("input");
      el.type = "number";
      el.inputMode = s.type === "integer" ? "numeric" : "decimal";
      el.step = s.type === "integer" ? "1" : "any";
      if (s.minimum !== undefined) el.min = String(s.minimum);
      if (s.maximum !== undefined) el.max = String(s.maximum);
      if (s.default !== undefined) el.placeholder = String(s.default);
    } else {
      el = document.createElement("input");
      el.type = "text";
      el.spellcheck = false;
      el.autocomplete = "off";
      if (Array.isArray(s.examples) && s.examples.length) el.placeholder = String(s.examples[0]);
    }
    el.id = "opt-" + p.name;
    el.name = p.name;
    return el;
  }

  function buildForm() {
    const grid = document.createElement("div");
    grid.className = "grid";
    for (const p of params) {
      const field = document.createElement("div");
      field.className = "field";
      const label = document.createElement("label");
      label.htmlFor = "opt-" + p.name;
      label.textContent = p.name;
      const el = control(p);
      const help = document.createElement("p");
      help.className = "hint";
      help.id = "opt-" + p.name + "-help";
      appendMarkdown(help, shortHint(p.description));
      help.title = p.description.replace(/`/g, "");
      el.setAttribute("aria-describedby", help.id);
      field.append(label, el, help);
      grid.append(field);
    }
    optionsBox.querySelectorAll(".grid").forEach((g) => g.remove());
    optionsBox.append(grid);
  }

  async function loadOptions() {
    optionsStatus.hidden = false;
    optionsStatus.textContent = "Loading the options from /v1/openapi.json…";
    try {
      const r = await fetch("/v1/openapi.json", { headers: authHeaders() });
      if (!r.ok) {
        const body = await r.text();
        let detail = r.status + " " + r.statusText;
        try {
          const p = JSON.parse(body);
          detail = `${p.status} ${p.code}: ${p.detail}`;
        } catch (_) { /* not a problem document */ }
        throw new Error(detail);
      }
      params = processParams(await r.json());
      buildForm();
      optionsLoaded = true;
      optionsStatus.hidden = true;
    } catch (e) {
      optionsStatus.textContent = `Could not load the options (${e.message}). ` +
        "If the service needs an API key for its OpenAPI document, enter it below; the options load again.";
    }
    update();
  }

  // ---- the request ----------------------------------------------------------

  function authHeaders() {
    const k = keyInput.value.trim();
    return k ? { Authorization: "Bearer " + k } : {};
  }

  // currentOptions lists the options set in the form, in the form's order.
  function currentOptions() {
    const out = [];
    for (const p of params) {
      const el = $("opt-" + p.name);
      const v = el ? el.value.trim() : "";
      if (v !== "") out.push([p.name, v]);
    }
    return out;
  }

  function queryString(opts) {
    return opts.map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v).replace(/%2C/gi, ",")).join("&");
  }

  function processPath(opts) {
    const q = queryString(opts);
    return "/v1/process" + (q ? "?" + q : "");
  }

  function contentType(f) {
    return f && f.type && f.type.startsWith("image/") ? f.type : "application/octet-stream";
  }

  function setStatus(state, text) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
  }

  function clearResult() {
    if (resultURL) URL.revokeObjectURL(resultURL);
    resultURL = "";
    resultType = "";
    resultImg.hidden = true;
    resultImg.removeAttribute("src");
    resultMeta.textContent = "";
    download.hidden = true;
    download.removeAttribute("href");
    warnings.hidden = true;
    problem.hidden = true;
    problemJSON.textContent = "";
  }

  async function run(ev) {
    ev.preventDefault();
    if (!file) {
      setStatus("error", "Choose an image first.");
      fileInput.focus();
      return;
    }
    if (inFlight) inFlight.abort();
    const ctl = new AbortController();
    inFlight = ctl;
    const opts = currentOptions();
    clearResult();
    setStatus("running", "Processing…");
    const headers = Object.assign({ "Content-Type": contentType(file) }, authHeaders());
    const t0 = performance.now();
    try {
      const r = await fetch(processPath(opts), { method: "POST", body: file, headers, signal: ctl.signal });
      const blob = await r.blob();
      const ms = performance.now() - t0;
      if (inFlight !== ctl) return;
      if (r.ok) await showResult(r, blob, ms);
      else await showProblem(r, blob, ms);
    } catch (e) {
      if (e.name === "AbortError") return;
      setStatus("error", "The request failed: " + e.message);
    } finally {
      if (inFlight === ctl) inFlight = null;
    }
  }

  async function showResult(r, blob, ms) {
    resultType = (r.headers.get("Content-Type") || blob.type || "").split(";")[0];
    resultURL = URL.createObjectURL(blob);
    const w = r.headers.get("X-Image-Width");
    const h = r.headers.get("X-Image-Height");
    let shown = true;
    resultImg.src = resultURL;
    try {
      await resultImg.decode();
    } catch (_) {
      shown = false;
    }
    resultImg.hidden = !shown;
    const parts = [`${w} × ${h} px`, formatBytes(blob.size), resultType, `${Math.round(ms)} ms`];
    if (file && file.size > 0) parts.push(`${Math.round(100 * blob.size / file.size)}% of the original's bytes`);
    resultMeta.textContent = parts.join(" · ");
    download.href = resultURL;
    download.download = "result." + extension(resultType);
    download.hidden = false;
    const warn = r.headers.get("X-Image-Warning");
    warnings.hidden = !warn;
    warnings.textContent = warn ? "Warnings: " + warn : "";
    setStatus("done", shown
      ? `Done in ${Math.round(ms)} ms.`
      : `Done in ${Math.round(ms)} ms. This browser cannot show ${resultType}: use Download.`);
    update();
  }

  async function showProblem(r, blob, ms) {
    const text = await blob.text();
    let summary = `${r.status} ${r.statusText}`;
    try {
      const p = JSON.parse(text);
      problemJSON.textContent = JSON.stringify(p, null, 2);
      if (p.code) summary = `${r.status} ${p.code}: ${p.detail || p.title || ""}`;
    } catch (_) {
      problemJSON.textContent = text;
    }
    problem.hidden = false;
    resultMeta.textContent = `${r.headers.get("Content-Type") || ""} · ${Math.round(ms)} ms`;
    setStatus("error", summary);
  }

  // ---- the chosen image -------------------------------------------------------

  async function setFile(f) {
    if (inFlight) inFlight.abort(); // its answer is for the previous image
    inFlight = null;
    file = f;
    if (originalURL) URL.revokeObjectURL(originalURL);
    originalURL = URL.createObjectURL(f);
    clearResult();
    originalImg.src = originalURL;
    let size = "";
    try {
      await originalImg.decode();
      originalImg.hidden = false;
      size = `${originalImg.naturalWidth} × ${originalImg.naturalHeight} px · `;
    } catch (_) {
      originalImg.hidden = true;
      size = "not shown by this browser · ";
    }
    if (file !== f) return;
    originalMeta.textContent = `${f.name} · ${size}${formatBytes(f.size)} · ${f.type || "unknown type"}`;
    runButton.disabled = false;
    setStatus("ready", "Ready: set the options and press Process.");
    update();
  }

  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) setFile(fileInput.files[0]);
  });

  // The whole page takes a dropped image; the box shows where to drop.
  window.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  window.addEventListener("dragleave", (e) => {
    if (!e.relatedTarget) drop.classList.remove("over");
  });
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const files = e.dataTransfer && e.dataTransfer.files;
    if (!files || !files.length) return;
    try {
      fileInput.files = files;
    } catch (_) { /* an old browser: the input keeps its label */ }
    setFile(files[0]);
  });

  // ---- snippets ---------------------------------------------------------------

  // sh quotes s for a POSIX shell when it needs quoting.
  function sh(s) {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
  }

  function py(s) {
    return JSON.stringify(s);
  }

  function extension(mediaType) {
    const m = /^image\/(?:x-)?([a-z0-9.+-]+)$/.exec(mediaType || "");
    if (!m) return "bin";
    return { jpeg: "jpg", "svg+xml": "svg" }[m[1]] || m[1];
  }

  // outputExtension is the extension of the file the snippets write: the
  // format asked for, else the input's (which the output keeps), else the
  // last result's.
  function outputExtension(opts) {
    const f = ((opts.find(([k]) => k === "format") || [])[1] || "").toLowerCase();
    if (f && f !== "auto") return { jpeg: "jpg", tif: "tiff" }[f] || f;
    const input = file && file.type.startsWith("image/") && !/hei[cf]/.test(file.type) ? file.type : "";
    if (!f && input) return extension(input);
    return resultType ? extension(resultType) : "img";
  }

  function isNumeric(name, v) {
    const p = params.find((q) => q.name === name);
    return p && (p.schema.type === "integer" || p.schema.type === "number") && /^-?\d+(\.\d+)?$/.test(v);
  }

  // pyDict adds the keyword argument name={entries} to lines: on one line
  // when it fits, else one entry a line.
  function pyDict(lines, name, entries) {
    const one = `        ${name}={${entries.join(", ")}},`;
    if (one.length <= 88) lines.push(one);
    else lines.push(`        ${name}={`, ...entries.map((e) => `            ${e},`), "        },");
  }

  function snippets() {
    const opts = currentOptions();
    const url = location.origin + processPath(opts);
    const name = file ? file.name : "photo.jpg";
    const ct = file ? contentType(file) : "image/jpeg";
    const out = "result." + outputExtension(opts);
    const key = keyInput.value.trim() !== "";

    const curl = [`curl --data-binary ${sh("@" + name)} -H ${sh("Content-Type: " + ct)}`];
    if (key) curl.push(`-H "Authorization: Bearer $${keyEnv}"`);
    curl.push(sh(url), `-o ${sh(out)}`);
    let c = curl.join(" \\\n  ");
    if (key) c = `# export ${keyEnv}=<your key> first (the key is not shown here)\n` + c;

    const headers = [`"Content-Type": ${py(ct)}`];
    if (key) headers.push(`"Authorization": "Bearer " + os.environ[${py(keyEnv)}]`);
    const lines = [];
    if (key) lines.push("import os", "");
    lines.push("import requests", "", `with open(${py(name)}, "rb") as f:`, "    r = requests.post(");
    lines.push(`        ${py(location.origin + "/v1/process")},`);
    if (opts.length) {
      pyDict(lines, "params", opts.map(([k, v]) => `${py(k)}: ${isNumeric(k, v) ? v : py(v)}`));
    }
    lines.push("        data=f,");
    pyDict(lines, "headers", headers);
    lines.push("    )");
    lines.push("if not r.ok:", "    print(r.json())  # the problem: code, detail, hint");
    lines.push("r.raise_for_status()", `with open(${py(out)}, "wb") as out:`, "    out.write(r.content)");
    return { curl: c, python: lines.join("\n") };
  }

  function update() {
    const s = snippets();
    $("curl").textContent = s.curl;
    $("python").textContent = s.python;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      // No clipboard API (e.g. plain http on another host): select and copy.
      const ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "offscreen";
      document.body.append(ta);
      ta.select();
      let ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (_) { /* nothing more to try */ }
      ta.remove();
      return ok;
    }
  }

  document.querySelectorAll("button.copy").forEach((b) => {
    b.addEventListener("click", async () => {
      const text = $(b.dataset.copy).textContent;
      const ok = await copyText(text);
      b.textContent = ok ? "Copied" : "Copy failed";
      copyStatus.textContent = ok ? "Copied to the clipboard." : "Could not copy: select the text and copy it.";
      setTimeout(() => { b.textContent = "Copy"; }, 1500);
    });
  });

  // ---- wiring -----------------------------------------------------------------

  function formatBytes(n) {
    if (n < 1024) return `${n} bytes`;
    const u = n < 1024 * 1024 ? [1024, "KiB"] : [1024 * 1024, "MiB"];
    return `${(n / u[0]).toFixed(1)} ${u[1]} (${n.toLocaleString("en")} bytes)`;
  }

  form.addEventListener("submit", run);
  form.addEventListener("input", (e) => {
    if (e.target !== fileInput) update();
  });
  form.addEventListener("change", (e) => {
    if (e.target !== fileInput) update();
  });
  keyInput.addEventListener("change", () => {
    if (!optionsLoaded) loadOptions();
  });
  $("reset").addEventListener("click", (e) => {
    e.preventDefault();
    for (const p of params) {
      const el = $("opt-" + p.name);
      if (el) el.value = "";
    }
    update();
  });

  update();
  loadOptions();
})();
