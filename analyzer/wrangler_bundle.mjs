// cfcompat's bundler for `cfcompat verify` and the runtime oracle: esbuild driven the way wrangler 4.x drives it
// for a deploy (wrangler-dist `bundleWorker`, `getNodeCompat`, the `hybrid-nodejs_compat` plugin), so a Worker that
// wrangler would start also starts here and one that it would not start fails the same way.
//
//   node wrangler_bundle.mjs CONFIG.json      (CONFIG: see `cfg` below; one JSON line with the result on stdout)
//
// What it reproduces (wrangler 4.164.0):
//   * esbuild options: bundle, format esm, target es2024, supported {import-source, using}, conditions
//     workerd/worker/browser, esbuild's default platform, loader .js/.mjs/.cjs -> jsx, keepNames, define of
//     process.env.NODE_ENV = "production", external __STATIC_CONTENT_MANIFEST and cloudflare:*;
//   * the Node.js compatibility mode from the date and flags (v2 / v1 / als / none, nodejs_compat on by default
//     from 2026-08-04, `no_nodejs_compat` leaving v2 on);
//   * in v2 mode the @cloudflare/unenv-preset for the date and flags through unenv's defineEnv: aliases (hybrid
//     polyfills and unenv's throwing stubs), externals (modules workerd provides), injected globals and polyfills,
//     and `require()` of a Node.js built-in rewritten to an import (esbuild alone would leave a dynamic require
//     that throws `Dynamic require of "events" is not supported`);
//   * in v1 / none mode a `node:` import that does not resolve becomes external (fails in workerd if missing);
//   * module rules: *.wasm (CompiledWasm), *.txt / *.html / *.sql (Text), *.bin (Data) as separate modules.
// And what wrangler does not do: nothing outside `root` (the repository) is bundled, whether reached through an
// absolute path, `..` or a symlink; such an import is an error that names the importing file.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { pathToFileURL } from "node:url";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
// cfg: { toolchain, entry, root, outdir, compatibilityDate, compatibilityFlags, nodeEnv?, tsconfig?, alias?, define? }
const req = createRequire(path.join(cfg.toolchain, "package.json"));
const esbuild = req("esbuild");

// an ES-module-only package of the toolchain (its "exports" has no require condition)
async function importEsm(pkg) {
  const dir = path.join(cfg.toolchain, "node_modules", pkg);
  const pj = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  let e = pj.exports?.["."] ?? pj.exports ?? pj.module ?? pj.main;
  if (e && typeof e === "object") e = e.import ?? e.default ?? e.node;
  return import(pathToFileURL(path.join(dir, e)).href);
}

const DEFAULT_ON = "2026-08-04";
const V2_SWITCH = "2024-09-23";

function nodeCompatMode(date, flags) {
  const has = (f) => flags.includes(f);
  const defaultOn = date >= DEFAULT_ON;
  const compat = has("nodejs_compat") || (defaultOn && !has("no_nodejs_compat"));
  const v2 = has("nodejs_compat_v2") || (!has("no_nodejs_compat_v2") && (defaultOn || (compat && date >= V2_SWITCH)));
  return v2 ? "v2" : compat ? "v1" : has("nodejs_als") ? "als" : null;
}

const root = fs.realpathSync(cfg.root);
const toolchain = fs.realpathSync(cfg.toolchain);
const inside = (p) => { const r = path.relative(root, p); return r === "" || (!r.startsWith("..") && !path.isAbsolute(r)); };
const ours = (p) => { const r = path.relative(toolchain, p); return !r.startsWith("..") && !path.isAbsolute(r); };
const real = (p) => { try { return fs.realpathSync(p); } catch { return p; } };

const outside = [];
const rootGuard = {
  name: "cfcompat-repository-only",
  setup(build) {
    // absolute and parent-relative specifiers are checked before esbuild reads anything
    build.onResolve({ filter: /^(\/|\.\.?(\/|$))/ }, (args) => {
      if (args.namespace !== "file" || !args.resolveDir) return undefined;
      const target = path.resolve(args.resolveDir, args.path);
      if (ours(args.importer) || ours(target)) return undefined;
      if (!inside(target)) {
        outside.push({ importer: path.relative(root, args.importer), path: args.path });
        return { errors: [{ text: `import of "${args.path}" reaches outside the repository (${target}); ` +
                                  "cfcompat verify bundles only files inside the scanned folder" }] };
      }
      return undefined;
    });
  },
};

function hybridPlugin(mode, date, flags) {
  return {
    name: "cfcompat-hybrid-nodejs_compat",
    async setup(build) {
      const { defineEnv } = await importEsm("unenv");
      const preset = await importEsm("@cloudflare/unenv-preset");
      const { alias, inject, external, polyfill } = defineEnv({
        presets: [preset.getCloudflarePreset({ compatibilityDate: date, compatibilityFlags: flags }),
                  { alias: { debug: "debug" } }],
        npmShims: true,
      }).env;
      const nodeRe = new RegExp(`^(${preset.nonPrefixedNodeModules.join("|")}|node:.+)$`);
      // require("events") of a Node.js built-in: an ES import wrapped in a CommonJS module
      build.onResolve({ filter: nodeRe }, (args) => args.kind === "require-call"
        ? { path: args.path, namespace: "cfcompat-node-builtin" } : undefined);
      build.onLoad({ filter: /.*/, namespace: "cfcompat-node-builtin" }, ({ path: p }) => ({
        contents: `import libDefault from '${p}';\nmodule.exports = libDefault;`, loader: "js" }));
      // aliases: hybrid polyfills, unenv stubs and npm shims
      const absolute = {};
      for (const [mod, target] of Object.entries(alias)) {
        try { absolute[mod] = req.resolve(target); } catch { /* a target the preset names but unenv lacks */ }
      }
      const keys = Object.keys(absolute).map((k) => k.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&"));
      if (keys.length) {
        const aliasRe = new RegExp(`^(${keys.join("|")})$`);
        build.onResolve({ filter: aliasRe }, (args) => {
          const target = alias[args.path];
          if (args.kind === "require-call" && (target.startsWith("unenv/npm/") || target.startsWith("unenv/mock/"))) {
            return { path: args.path, namespace: "cfcompat-unenv-cjs" };
          }
          return { path: absolute[args.path], external: external.includes(target) };
        });
        build.onLoad({ filter: /.*/, namespace: "cfcompat-unenv-cjs" }, ({ path: p }) => ({
          contents: `import * as esm from '${p}';\nmodule.exports = Object.entries(esm).filter(([k]) => k !== 'default')` +
                    `.reduce((cjs, [k, v]) => Object.defineProperty(cjs, k, { value: v, enumerable: true }), ` +
                    `"default" in esm ? esm.default : {});`,
          loader: "js" }));
      }
      // injected globals (process, Buffer, ... when polyfilled) and side-effect polyfills
      const byModule = new Map();
      for (const [name, spec] of Object.entries(inject)) {
        const [mod, exp, imp] = Array.isArray(spec) ? [spec[0], spec[1], spec[1]] : [spec, "default", "defaultExport"];
        if (!byModule.has(mod)) byModule.set(mod, []);
        byModule.get(mod).push({ name, exp, imp });
      }
      const virt = new Map();
      for (const mod of byModule.keys()) virt.set(path.join(cfg.outdir, "_cfcompat_global_" + mod.replaceAll("/", "-")), mod);
      build.initialOptions.inject = [...(build.initialOptions.inject ?? []), ...virt.keys(),
                                     ...polyfill.map((m) => req.resolve(m))];
      build.onResolve({ filter: /_cfcompat_global_/ }, ({ path: p }) => ({ path: p }));
      build.onLoad({ filter: /_cfcompat_global_/ }, ({ path: p }) => {
        const mod = virt.get(p);
        const list = byModule.get(mod);
        const names = list.map(({ exp, imp }) => (exp === imp ? exp : `${exp} as ${imp}`));
        return { contents: `import { ${names.join(", ")} } from "${mod}";\n` +
                           list.map(({ name, imp }) => `globalThis.${name} = ${imp};`).join("\n"), resolveDir: toolchain };
      });
    },
  };
}

const v1Plugin = {
  name: "cfcompat-nodejs_compat-imports",
  setup(build) {
    const seen = new Set();
    build.onResolve({ filter: /^node:/ }, async (args) => {
      const key = `${args.path}:${args.kind}:${args.resolveDir}:${args.importer}`;
      if (seen.has(key)) return undefined;
      seen.add(key);
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer });
      return r.errors.length ? { external: true } : r;
    });
  },
};
const alsPlugin = { name: "cfcompat-als", setup(b) { b.onResolve({ filter: /^node:async_hooks(\/|$)/ }, () => ({ external: true })); } };
const cloudflarePlugin = { name: "cfcompat-cloudflare-internal",
  setup(b) { b.onResolve({ filter: /^(cloudflare|workerd):/ }, () => ({ external: true })); } };

const modules = [];
const RULES = [[/\.wasm(\?module)?$/, "wasm"], [/\.(txt|html|sql)$/, "text"], [/\.bin$/, "data"]];
const moduleRules = {
  name: "cfcompat-module-rules",
  setup(build) {
    build.onResolve({ filter: /\.(wasm|txt|html|sql|bin)(\?module)?$/ }, (args) => {
      if (args.namespace !== "file" || args.kind === "entry-point") return undefined;
      const file = path.resolve(args.resolveDir, args.path.replace(/\?module$/, ""));
      if (!inside(real(file))) return undefined;     // the repository guard reports it
      let kind = null;
      for (const [re, k] of RULES) if (re.test(args.path)) kind = k;
      let data;
      try { data = fs.readFileSync(file); } catch { return undefined; }
      const name = crypto.createHash("sha1").update(data).digest("hex") + "-" + path.basename(file);
      if (!modules.some((m) => m.name === name)) {
        fs.writeFileSync(path.join(cfg.outdir, name), data);
        modules.push({ name, kind, source: path.relative(root, file) });
      }
      return { path: "./" + name, external: true };
    });
  },
};

const date = cfg.compatibilityDate;
const flags = cfg.compatibilityFlags ?? [];
const mode = nodeCompatMode(date, flags);
const nodePlugins = mode === "v2" ? [hybridPlugin(mode, date, flags)] : mode === "als" ? [alsPlugin, v1Plugin] : [v1Plugin];
const nodeEnv = JSON.stringify(cfg.nodeEnv ?? "production");
const options = {
  entryPoints: [cfg.entry], bundle: true, absWorkingDir: root, outdir: cfg.outdir, entryNames: "worker",
  outExtension: { ".js": ".mjs" }, format: "esm", target: "es2024", supported: { "import-source": true, using: true },
  conditions: ["workerd", "worker", "browser"], keepNames: true, metafile: true, sourcemap: "external",
  sourcesContent: false, external: ["__STATIC_CONTENT_MANIFEST"], loader: { ".js": "jsx", ".mjs": "jsx", ".cjs": "jsx" },
  define: { "process.env.NODE_ENV": nodeEnv, "global.process.env.NODE_ENV": nodeEnv,
            "globalThis.process.env.NODE_ENV": nodeEnv, ...(cfg.define ?? {}) },
  plugins: [rootGuard, moduleRules, ...nodePlugins, cloudflarePlugin],
  logLevel: "silent", ...(cfg.tsconfig ? { tsconfig: cfg.tsconfig } : {}),
};

function loc(m) {
  return m.location ? { file: m.location.file, line: m.location.line, column: m.location.column, text: m.location.lineText } : null;
}

let out;
try {
  const r = await esbuild.build(options);
  const inputs = Object.keys(r.metafile.inputs);
  const stray = inputs.map((i) => path.resolve(root, i.replace(/^[\w-]+:/, ""))).filter((p) => fs.existsSync(p) && !inside(real(p)) && !ours(real(p)));
  if (stray.length) {
    out = { ok: false, mode, errors: stray.map((p) => ({ text: `bundled a file from outside the repository: ${p}` })), outside };
  } else {
    out = { ok: true, mode, modules, metafile: r.metafile, warnings: r.warnings.map((w) => ({ text: w.text, location: loc(w) })) };
  }
} catch (e) {
  out = { ok: false, mode, outside, errors: (e.errors ?? [{ text: String(e?.message ?? e) }]).map((m) => ({ text: m.text, location: loc(m) })) };
}
process.stdout.write(JSON.stringify(out) + "\n");
