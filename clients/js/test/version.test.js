// @ts-check
// The clients are versioned with the server: one version number in all three manifests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { VERSION } from "../dist/index.js";

const root = new URL("../../../", import.meta.url);

/** @param {string} path */
function pyprojectVersion(path) {
  const found = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(new URL(path, root), "utf8"));
  assert.ok(found?.[1], `no version in ${path}`);
  return found[1];
}

test("both clients have the server's version", () => {
  const server = pyprojectVersion("pyproject.toml");
  const python = pyprojectVersion("clients/python/pyproject.toml");
  const pkg = JSON.parse(readFileSync(new URL("clients/js/package.json", root), "utf8"));
  assert.deepEqual([python, pkg.version, VERSION], [server, server, server]);
});
