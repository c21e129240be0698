"""The ``/v1/docs/`` page: the OpenAPI document rendered without remote assets.

The daemon has no internet, so the page is one self-written HTML document
with its style and script inline: it fetches ``/v1/openapi.json`` and lists
each operation (method, path, summary, description, parameters, request and
response bodies with a generated example) grouped by tag, then every schema.
Text is inserted with ``textContent`` only, never as HTML. The page is sent
with a Content-Security-Policy that forbids loading anything else.

Source: issue 15 section 2.
"""

from __future__ import annotations

__all__ = ["DOCS_CSP", "DOCS_PAGE"]

#: The page may run its own inline script and style and fetch from the daemon.
DOCS_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'"
)

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70em;padding:1em}
h2{border-bottom:1px solid #ccc;margin-top:2em}
details{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.3em .6em}
summary{cursor:pointer}
code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f5f5f5;overflow:auto;padding:.5em;white-space:pre-wrap}
.m{display:inline-block;font-weight:bold;width:6em}
.m.get{color:#06c}.m.post{color:#080}.m.put{color:#a60}.m.delete{color:#c00}
.add{background:#fe9;border-radius:3px;font-size:11px;margin-left:.5em;padding:0 .3em}
.desc{white-space:pre-wrap}
table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
"""

_SCRIPT = r"""
"use strict";
const REF = "#/components/schemas/";
let doc = null;
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}
function add(parent, ...kids) {
  kids.forEach(k => parent.appendChild(k));
  return parent;
}
function deref(s) {
  return s && s.$ref ? doc.components.schemas[s.$ref.slice(REF.length)] : s;
}
function typeName(s) {
  if (!s) return "any";
  if (s.$ref) return s.$ref.slice(REF.length);
  if (s.anyOf) return s.anyOf.map(typeName).join(" | ");
  if (s.type === "array") return typeName(s.items) + "[]";
  if (s.type === "object" && s.additionalProperties && !s.properties)
    return "{string: " + typeName(s.additionalProperties) + "}";
  return s.type || "any";
}
function example(s, depth) {
  s = deref(s) || {};
  if (depth > 6) return null;
  if ("default" in s && s.default !== null) return s.default;
  if (s.anyOf) return example(s.anyOf[0], depth + 1);
  switch (s.type) {
    case "string": return "string";
    case "integer": return 0;
    case "number": return 0.0;
    case "boolean": return false;
    case "null": return null;
    case "array": return [example(s.items, depth + 1)];
  }
  const out = {};
  for (const [k, v] of Object.entries(s.properties || {}))
    out[k] = example(v, depth + 1);
  return out;
}
function body(title, media) {
  const box = el("div");
  add(box, el("h4", title));
  for (const [type, m] of Object.entries(media || {})) {
    add(box, el("div", type + ": " + typeName(m.schema)));
    if (type.endsWith("json"))
      add(box, el("pre", JSON.stringify(example(m.schema, 0), null, 2)));
  }
  return box;
}
function operation(path, method, op) {
  const box = el("details");
  const head = add(el("summary"), el("span", method.toUpperCase(), "m " + method),
                   el("code", path), el("span", "  " + op.summary));
  if (op["x-crushd-addition"])
    add(head, el("span", "crushd " + op["x-crushd-addition"], "add"));
  add(box, head);
  if (op.description) add(box, el("p", op.description, "desc"));
  if (op.parameters) {
    const t = add(el("table"), add(el("tr"), el("th", "parameter"), el("th", "in"),
                                   el("th", "required")));
    op.parameters.forEach(p => add(t, add(el("tr"), el("td", p.name), el("td", p.in),
                                          el("td", p.required ? "yes" : "no"))));
    add(box, t);
  }
  if (op.requestBody)
    add(box, body("Request body" + (op.requestBody.required ? "" : " (optional)"),
                  op.requestBody.content));
  const errors = [];
  for (const [code, r] of Object.entries(op.responses)) {
    if (/^[45]/.test(code)) errors.push(code);
    else add(box, body(code + ": " + r.description, r.content));
  }
  return add(box, el("p", "Errors " + errors.join(", ") + ': {"message": string}'));
}
function schema(name, s) {
  const box = add(el("details"), add(el("summary"), el("code", name)));
  if (s.description) add(box, el("p", s.description, "desc"));
  const req = new Set(s.required || []);
  const t = add(el("table"), add(el("tr"), el("th", "field"), el("th", "type"),
                                 el("th", "required"), el("th", "note")));
  for (const [k, v] of Object.entries(s.properties || {}))
    add(t, add(el("tr"), el("td", k), el("td", typeName(v)),
               el("td", req.has(k) ? "yes" : "no"), el("td", v.description || "")));
  return add(box, t, el("pre", JSON.stringify(example(s, 0), null, 2)));
}
function render() {
  const main = document.getElementById("main");
  main.textContent = "";
  add(main, el("h1", doc.info.title + " " + doc.info.version),
      el("p", doc.info.description));
  const tags = new Map();
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags || ["other"])[0];
      if (!tags.has(tag)) tags.set(tag, []);
      tags.get(tag).push(operation(path, method, op));
    }
  for (const [tag, ops] of tags) add(main, el("h2", tag), ...ops);
  add(main, el("h2", "schemas"));
  for (const [name, s] of Object.entries(doc.components.schemas))
    add(main, schema(name, s));
}
fetch("/v1/openapi.json")
  .then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
  .then(d => { doc = d; render(); })
  .catch(e => { document.getElementById("main").textContent = "failed: " + e; });
"""

#: The whole page (UTF-8 HTML).
DOCS_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>crushd API</title><style>{_STYLE}</style></head>
<body><main id="main">Loading /v1/openapi.json ...</main>
<script>{_SCRIPT}</script></body></html>
"""
