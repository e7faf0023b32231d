// Validates AsyncAPI documents with the official parser (@asyncapi/parser) and prints the
// diagnostics as JSON. The parser is not bundled: it is found through NODE_PATH.
//
//   node _validate.cjs FILE...   one JSON line per file: {"file", "parsed", "diagnostics"}
//   node _validate.cjs --serve   one JSON document per stdin line, one result line each
"use strict";
const { readFileSync } = require("node:fs");
const { createInterface } = require("node:readline");
const { Parser } = require("@asyncapi/parser");

const parser = new Parser();
const SEVERITY = ["error", "warning", "info", "hint"];

async function check(source) {
  const { document, diagnostics } = await parser.parse(source);
  return {
    parsed: document !== undefined,
    diagnostics: diagnostics.map((d) => ({
      severity: SEVERITY[d.severity] ?? String(d.severity),
      code: String(d.code),
      message: d.message,
      path: (d.path ?? []).map(String),
    })),
  };
}

function crashed(error) {
  return { parsed: false, diagnostics: [{ severity: "error", code: "crash", message: String(error), path: [] }] };
}

async function serve() {
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let result;
    try {
      result = await check(JSON.parse(line));
    } catch (error) {
      result = crashed(error);
    }
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

async function files(paths) {
  let failed = false;
  for (const file of paths) {
    let result;
    try {
      result = await check(readFileSync(file, "utf8"));
    } catch (error) {
      result = crashed(error);
    }
    failed ||= !result.parsed || result.diagnostics.some((d) => d.severity === "error");
    process.stdout.write(JSON.stringify({ file, ...result }) + "\n");
  }
  process.exitCode = failed ? 1 : 0;
}

const args = process.argv.slice(2);
(args[0] === "--serve" ? serve() : files(args)).catch((error) => {
  process.stderr.write(String(error) + "\n");
  process.exitCode = 2;
});
