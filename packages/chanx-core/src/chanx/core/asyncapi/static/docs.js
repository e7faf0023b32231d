// Chanx AsyncAPI docs page: renders an AsyncAPI 3.0 document with the DOM API only.
// Every name, docstring and example is inserted as text (textContent), never as markup.
(function () {
  "use strict";

  function el(tag, className, children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  function link(href, text, className) {
    const a = el("a", className, text);
    a.href = href;
    return a;
  }

  function anchor(kind, key) {
    return kind + "-" + String(key).replace(/[^A-Za-z0-9_.-]/g, "_");
  }

  function refTarget(ref) {
    return typeof ref === "string" && ref.startsWith("#/")
      ? ref.slice(2).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      : null;
  }

  function deref(doc, value) {
    let seen = 0;
    while (value && typeof value === "object" && typeof value.$ref === "string" && seen++ < 20) {
      const path = refTarget(value.$ref);
      if (!path) return value;
      value = path.reduce((node, key) => (node == null ? node : node[key]), doc);
    }
    return value;
  }

  function refName(ref) {
    const path = refTarget(ref);
    return path ? path[path.length - 1] : String(ref);
  }

  // Inline code in docstrings and summaries: `name` or ``name`` becomes a <code> element
  // whose content is still text; nothing else in a docstring is read as markup.
  const INLINE_CODE = /``([^`]+)``|`([^`\n]+)`/g;

  function inline(value) {
    const source = String(value);
    const parts = [];
    let last = 0;
    for (const match of source.matchAll(INLINE_CODE)) {
      if (match.index > last) parts.push(source.slice(last, match.index));
      parts.push(el("code", "inline-code", match[1] !== undefined ? match[1] : match[2]));
      last = match.index + match[0].length;
    }
    if (last < source.length) parts.push(source.slice(last));
    return parts;
  }

  function text(value, className) {
    return value ? el("p", className || "text", inline(value)) : null;
  }

  // -- schemas ---------------------------------------------------------------------------

  function typeLabel(schema) {
    if (!schema || typeof schema !== "object") return "any";
    if (schema.$ref) return refName(schema.$ref);
    if ("const" in schema) return JSON.stringify(schema.const);
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    const union = schema.oneOf || schema.anyOf;
    if (union) return union.map(typeLabel).join(" | ");
    if (schema.allOf && schema.allOf.length === 1) return typeLabel(schema.allOf[0]);
    if (schema.type === "array") {
      if (Array.isArray(schema.items)) return "[" + schema.items.map(typeLabel).join(", ") + "]";
      return "array<" + typeLabel(schema.items) + ">";
    }
    if (schema.type === "object" && schema.additionalProperties && !schema.properties) {
      return "map<string, " + typeLabel(schema.additionalProperties) + ">";
    }
    const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "any";
    return schema.format ? type + " (" + schema.format + ")" : type;
  }

  const CONSTRAINTS = [
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties", "default", "discriminator",
  ];

  function constraints(schema) {
    const found = CONSTRAINTS.filter((k) => schema && k in schema).map(
      (k) => k + ": " + JSON.stringify(schema[k]),
    );
    return found.length ? el("span", "constraints", found.join(", ")) : null;
  }

  function children(schema) {
    if (!schema || typeof schema !== "object") return [];
    const out = [];
    for (const key of ["oneOf", "anyOf", "allOf"]) {
      for (const [i, sub] of (schema[key] || []).entries()) out.push([key + " " + (i + 1), sub]);
    }
    if (Array.isArray(schema.items)) schema.items.forEach((s, i) => out.push(["item " + i, s]));
    else if (schema.items) out.push(["items", schema.items]);
    if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
      out.push(["values", schema.additionalProperties]);
    }
    return out;
  }

  function isComplex(schema) {
    return Boolean(schema && (schema.$ref || schema.properties || children(schema).some(([, s]) => isComplex(s))));
  }

  function schemaView(doc, schema, depth, seen, quiet) {
    const box = el("div", "schema");
    let resolved = schema;
    if (schema && schema.$ref) {
      const name = refName(schema.$ref);
      box.append(el("div", "schema-ref", ["→ ", link("#" + anchor("schema", name), name)]));
      if (seen.has(name) || depth > 6) {
        box.append(el("div", "note", seen.has(name) ? "(recursive)" : "…"));
        return box;
      }
      seen = new Set(seen).add(name);
      resolved = deref(doc, schema);
    }
    if (!resolved || typeof resolved !== "object") return box;
    if (resolved.description && !quiet) box.append(text(resolved.description, "text description"));
    const props = resolved.properties || {};
    const required = new Set(resolved.required || []);
    if (Object.keys(props).length) {
      const table = el("table", "properties", [
        el("thead", null, el("tr", null, [el("th", null, "field"), el("th", null, "type"), el("th", null, "details")])),
      ]);
      const body = el("tbody");
      for (const [name, sub] of Object.entries(props)) {
        const details = el("td", null, [text(sub && sub.description, "text"), constraints(sub)]);
        if (isComplex(sub)) {
          const fold = el("details", null, [el("summary", null, "structure"), schemaView(doc, sub, depth + 1, seen)]);
          details.append(fold);
        }
        body.append(el("tr", null, [
          el("td", "field", [el("code", null, name), required.has(name) ? el("span", "required", " required") : null]),
          el("td", "type", el("code", null, typeLabel(sub))),
          details,
        ]));
      }
      table.append(body);
      box.append(table);
    } else {
      box.append(el("div", "type-line", [el("code", null, typeLabel(resolved)), " ", constraints(resolved)]));
    }
    for (const [label, sub] of children(resolved)) {
      box.append(el("div", "branch", [el("div", "branch-label", label + ": " + typeLabel(sub)),
        isComplex(sub) ? schemaView(doc, sub, depth + 1, seen) : null]));
    }
    return box;
  }

  function example(doc, schema, depth) {
    schema = deref(doc, schema);
    if (!schema || typeof schema !== "object" || depth > 5) return null;
    if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
    if ("const" in schema) return schema.const;
    if ("default" in schema) return schema.default;
    if (schema.enum && schema.enum.length) return schema.enum[0];
    const union = schema.oneOf || schema.anyOf;
    if (union && union.length) {
      const first = union.find((s) => !(s && s.type === "null")) || union[0];
      return example(doc, first, depth + 1);
    }
    if (schema.allOf && schema.allOf.length) return example(doc, schema.allOf[0], depth + 1);
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === "object" || schema.properties) {
      const out = {};
      const required = new Set(schema.required || []);
      for (const [name, sub] of Object.entries(schema.properties || {})) {
        if (required.has(name) || depth === 0) out[name] = example(doc, sub, depth + 1);
      }
      return out;
    }
    if (type === "array") {
      if (Array.isArray(schema.items)) return schema.items.map((s) => example(doc, s, depth + 1));
      return schema.items ? [example(doc, schema.items, depth + 1)] : [];
    }
    return { string: "string", integer: 0, number: 0, boolean: true, null: null }[type] ?? null;
  }

  // -- document --------------------------------------------------------------------------

  function messageLinks(doc, refs) {
    return el("ul", "message-links", (refs || []).map((ref) => {
      const message = deref(doc, ref) || {};
      const target = Object.entries((doc.components || {}).messages || {}).find(([, m]) => m === message);
      const name = target ? target[0] : refName(ref && ref.$ref);
      return el("li", null, [
        link("#" + anchor("message", name), message.title || name, "message-link"),
        message.name ? el("code", "message-action", message.name) : null,
        message.summary ? el("span", "muted", [" — ", ...inline(message.summary)]) : null,
      ]);
    }));
  }

  function securityView(doc, security) {
    if (!security || !security.length) return null;
    const items = security.map((s) => {
      const scheme = deref(doc, s) || {};
      return el("li", null, [el("code", null, scheme.name || refName(s.$ref)), " in " + (scheme.in || "?"),
        scheme.description ? el("span", "muted", " — " + scheme.description) : null]);
    });
    return el("div", "security", [el("h5", null, "Credentials (any one)"), el("ul", null, items)]);
  }

  function operationView(doc, id, op) {
    const receive = op.action === "receive";
    const card = el("div", "operation " + (receive ? "receive" : "send"), [
      el("div", "operation-head", [
        el("span", "badge", receive ? "client → server" : "server → client"),
        el("code", "operation-id", id),
        op.summary ? el("span", "operation-summary", inline(op.summary)) : null,
      ]),
      op.description && op.description !== op.summary ? text(op.description, "text description") : null,
      el("h5", null, receive ? "Client sends" : "Server sends"),
      messageLinks(doc, op.messages),
    ]);
    if (op.reply) {
      card.append(el("h5", null, "Server replies"), messageLinks(doc, op.reply.messages));
    }
    if (op.tags && op.tags.length) card.append(el("div", "tags", op.tags.map((t) => el("span", "tag", t.name))));
    return card;
  }

  function channelView(doc, id, channel) {
    const ops = Object.entries(doc.operations || {}).filter(
      ([, op]) => op.channel && op.channel.$ref === "#/channels/" + id,
    );
    const section = el("section", "channel card", [
      el("h3", null, [el("code", "channel-address", channel.address || id), " ", el("span", "muted", channel.title || id)]),
      text(channel.description, "text description"),
    ]);
    section.id = anchor("channel", id);
    if (channel.tags) section.append(el("div", "tags", channel.tags.map((t) => el("span", "tag", t.name))));
    const params = Object.entries(channel.parameters || {});
    if (params.length) {
      section.append(el("h4", null, "Path parameters"), el("ul", "parameters",
        params.map(([name, p]) => el("li", null, [el("code", null, "{" + name + "}"), p.description ? " " : "", ...(p.description ? inline(p.description) : [])]))));
    }
    const security = ops.find(([, op]) => op.security && op.security.length);
    if (security) section.append(securityView(doc, security[1].security));
    section.append(el("h4", null, "Operations"));
    for (const [opId, op] of ops) section.append(operationView(doc, opId, op));
    return section;
  }

  function messageView(doc, key, message) {
    const section = el("section", "message card", [
      el("h3", null, [el("span", "message-title", message.title || key), " ",
        message.name ? el("code", "message-action", message.name) : null]),
      text(message.summary, "text summary"),
      message.description && message.description !== message.summary ? text(message.description, "text description") : null,
    ]);
    section.id = anchor("message", key);
    const correlation = deref(doc, message.correlationId);
    if (correlation && correlation.location) {
      section.append(el("p", "muted", ["Correlation id at ", el("code", null, correlation.location)]));
    }
    if (message.payload) {
      section.append(el("h4", null, "Payload"), schemaView(doc, message.payload, 0, new Set(), true));
      const sample = example(doc, message.payload, 0);
      section.append(el("details", "example", [el("summary", null, "Example"),
        el("pre", null, JSON.stringify(sample, null, 2))]));
    }
    return section;
  }

  function render(doc, root) {
    const info = doc.info || {};
    const channels = Object.entries(doc.channels || {});
    const messages = Object.entries((doc.components || {}).messages || {});
    const schemas = Object.entries((doc.components || {}).schemas || {});
    document.title = (info.title || "AsyncAPI") + " — AsyncAPI";
    const nav = el("nav", "sidebar", [
      el("h4", null, "Channels"),
      el("ul", null, channels.map(([id, c]) => el("li", null, link("#" + anchor("channel", id), c.address || id)))),
      el("h4", null, "Messages"),
      el("ul", null, messages.map(([key, m]) => el("li", null, link("#" + anchor("message", key), m.title || key)))),
      el("h4", null, "Schemas"),
      el("ul", null, schemas.map(([key]) => el("li", null, link("#" + anchor("schema", key), key)))),
    ]);
    const main = el("main", null, [
      el("header", null, [
        el("h1", null, [info.title || "AsyncAPI", " ", el("span", "version", info.version || "")]),
        text(info.description, "text description"),
        el("p", "muted", "AsyncAPI " + (doc.asyncapi || "?")),
      ]),
    ]);
    const servers = Object.entries(doc.servers || {});
    if (servers.length) {
      main.append(el("h2", null, "Servers"), el("ul", "servers", servers.map(([name, s]) =>
        el("li", null, [el("code", null, (s.protocol || "") + "://" + (s.host || "") + (s.pathname || "")), " ", el("span", "muted", name)]))));
    }
    main.append(el("h2", null, "Channels"));
    for (const [id, channel] of channels) main.append(channelView(doc, id, channel));
    main.append(el("h2", null, "Messages"));
    for (const [key, message] of messages) main.append(messageView(doc, key, message));
    main.append(el("h2", null, "Schemas"));
    for (const [key, schema] of schemas) {
      const section = el("section", "schema-card card", [el("h3", null, el("code", null, key)), schemaView(doc, schema, 0, new Set([key]))]);
      section.id = anchor("schema", key);
      main.append(section);
    }
    root.replaceChildren(nav, main);
    root.dataset.rendered = "true";
    if (location.hash) {
      const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
  }

  function fail(root, error) {
    root.replaceChildren(el("p", "error", "Could not show the AsyncAPI document: " + error));
  }

  function start() {
    const root = document.getElementById("chanx-asyncapi");
    const embedded = document.getElementById("asyncapi-document");
    try {
      if (embedded) return render(JSON.parse(embedded.textContent), root);
      fetch(root.dataset.documentUrl, { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
        .then((doc) => render(doc, root), (error) => fail(root, error));
    } catch (error) {
      fail(root, error);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
