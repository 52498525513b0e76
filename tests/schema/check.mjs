#!/usr/bin/env node
// check.mjs — checks every object written to the test API server against its
// kind's schema: the upstream Kubernetes schemas with their validation
// (kubernetes-models and its sibling packages, installed from tests/
// package-lock.json by `make deps`), or a schema of this folder for kinds
// that publish none (kinds.mjs says which).
//
//   node tests/schema/check.mjs [--quiet] OBJECTS_LOG...
//
// OBJECTS_LOG is what tests/k8s/apiserver.py --objects-log writes: one JSON
// line per write, {"verb","user","agent","path","object"}.  Two kinds of
// problems are reported, each naming the log line, the write, the kind, the
// object and the place in the schema:
//   - the object breaks its schema (a wrong type, a missing required field,
//     a value outside an enum or pattern, ...);
//   - a field the schema does not have: the real API server would drop it
//     (a CRD prunes unknown fields, a built-in kind ignores them), so what
//     perch meant to write would be lost.  An upstream schema is compiled
//     code with no list of fields, so the check watches which fields the
//     validator reads (a Proxy): a validator reads every field its schema
//     defines and enumerates the keys of maps; a field it never touched is
//     not in the schema.
// Exit status: 0 when every object passes, 1 otherwise, 2 on bad usage or an
// object log that cannot be read.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";

import { KINDS, OBJECT_META } from "./kinds.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const MAX_REPORTS = 50;

// ---- watching which fields a validator reads ------------------------------

// A proxy of v that records, in t.read, the path of every field read and,
// in t.maps, the paths of objects whose keys were enumerated.
function tracked(v, at, t) {
	if (v === null || typeof v !== "object")
		return v;
	const note = (k) => { if (typeof k === "string") t.read.add(at + "/" + k); };
	return new Proxy(v, {
		get(o, k, r) {
			note(k);
			const x = Reflect.get(o, k, r);
			return typeof k === "string" && x !== null && typeof x === "object" &&
			    Object.prototype.hasOwnProperty.call(o, k) ? tracked(x, at + "/" + k, t) : x;
		},
		has(o, k) { note(k); return Reflect.has(o, k); },
		getOwnPropertyDescriptor(o, k) { note(k); return Reflect.getOwnPropertyDescriptor(o, k); },
		ownKeys(o) {
			t.maps.add(at);
			for (const k of Reflect.ownKeys(o))
				note(k);
			return Reflect.ownKeys(o);
		},
	});
}

// The topmost fields of v that the validator never read.
function unread(v, at, t, out) {
	if (v === null || typeof v !== "object")
		return out;
	for (const k of Object.keys(v)) {
		const p = at + "/" + k;
		if (!t.read.has(p))
			out.push(p);
		else
			unread(v[k], p, t, out);
	}
	return out;
}

// A JSON-schema path for an instance path: properties/<key> for a field,
// additionalProperties for a map entry, items for an array element.
function schemaPathOf(instancePath, t, tail) {
	const parts = instancePath.split("/").slice(1);
	let at = "", out = "#";
	for (const p of parts) {
		if (t.maps.has(at) && !/^\d+$/.test(p))
			out += "/additionalProperties";
		else if (/^\d+$/.test(p))
			out += "/items";
		else
			out += "/properties/" + p.replace(/~/g, "~0").replace(/\//g, "~1");
		at += "/" + p;
	}
	return out + (tail && tail !== "#" ? tail.replace(/^#/, "") : "");
}

// ---- validators -----------------------------------------------------------

const modules = new Map();

async function upstream(entry) {
	const key = entry.module + "#" + entry.name;
	if (!modules.has(key)) {
		const mod = await import(entry.module);
		const cls = mod[entry.name];
		if (typeof cls !== "function" || typeof cls.prototype.validate !== "function")
			throw new Error(`${entry.module}: no model class ${entry.name}`);
		modules.set(key, cls);
	}
	const cls = modules.get(key);
	const schema = `${entry.module} (${entry.name})`;
	return (obj) => {
		const t = { read: new Set(), maps: new Set() };
		const problems = [];
		try {
			cls.prototype.validate.call(tracked(obj, "", t));
		} catch (e) {
			if (!Array.isArray(e.errors))
				throw e;
			for (const er of e.errors)
				problems.push({ schema, where: er.instancePath || "/",
				    schemaPath: schemaPathOf(er.instancePath, t, er.schemaPath),
				    message: er.message + (er.params && er.params.allowedValues ?
				    " (" + er.params.allowedValues.join(", ") + ")" : "") });
		}
		for (const p of unread(obj, "", t, []))
			problems.push({ schema, where: p, schemaPath: schemaPathOf(p, t, ""),
			    message: "is not a field of the schema: the API server would drop it" });
		return problems;
	};
}

let ajv = null;
const localSchemas = new Map();

function local(entry, metaCheck) {
	if (ajv === null) {
		ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
		ajv.addFormat("date-time",
		    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
	}
	if (!localSchemas.has(entry.file)) {
		const doc = JSON.parse(fs.readFileSync(path.join(here, entry.file), "utf8"));
		ajv.addSchema(doc);
		localSchemas.set(entry.file, doc.$id);
	}
	const ref = `${localSchemas.get(entry.file)}#/definitions/${entry.def}`;
	const validate = ajv.getSchema(ref);
	if (!validate)
		throw new Error(`${entry.file}: no definition ${entry.def}`);
	const schema = `tests/schema/${entry.file} (${entry.def})`;
	return (obj) => {
		const problems = [];
		if (!validate(obj))
			for (const er of validate.errors)
				problems.push({ schema, where: er.instancePath || "/",
				    schemaPath: er.schemaPath, message: er.message +
				    (er.params && er.params.additionalProperty ?
				    `: ${er.params.additionalProperty}` : "") +
				    (er.params && er.params.allowedValues ?
				    " (" + er.params.allowedValues.join(", ") + ")" : "") });
		if (obj && typeof obj.metadata === "object")
			for (const p of metaCheck(obj.metadata))
				problems.push({ ...p, where: "/metadata" + (p.where === "/" ? "" : p.where) });
		return problems;
	};
}

const validators = new Map();

async function validatorFor(key) {
	if (validators.has(key))
		return validators.get(key);
	const entry = KINDS[key];
	let v = null;
	if (entry && entry.module)
		v = await upstream(entry);
	else if (entry)
		v = local(entry, await upstream(OBJECT_META));
	validators.set(key, v);
	return v;
}

// ---- the log --------------------------------------------------------------

function describe(obj) {
	const md = (obj && obj.metadata) || {};
	const name = typeof md.name === "string" ? md.name : "(no name)";
	return (typeof md.namespace === "string" && md.namespace ? md.namespace + "/" : "") + name;
}

async function checkFile(file, st, quiet) {
	const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
	let n = 0;
	for await (const line of lines) {
		n++;
		if (!line.trim())
			continue;
		let rec;
		try {
			rec = JSON.parse(line);
		} catch (e) {
			console.error(`schema: ${file}:${n}: not a JSON line (${e.message})`);
			st.unreadable++;
			continue;
		}
		const obj = rec.object;
		const kind = obj && typeof obj === "object" ? `${obj.apiVersion}/${obj.kind}` : "?";
		const text = JSON.stringify(obj);
		st.objects++;
		st.kinds.set(kind, (st.kinds.get(kind) || 0) + 1);
		if (st.seen.has(text))
			continue;	// the same object again: known already
		st.seen.add(text);
		const v = await validatorFor(kind);
		const where = `${file}:${n}: ${rec.verb || "write"} by ${(rec.agent || "?").split(" ")[0]}`;
		if (v === null) {
			st.problems++;
			console.error(`schema: ${where}: ${kind} ${describe(obj)}: no schema for this kind ` +
			    "(add it to tests/schema/kinds.mjs)");
			continue;
		}
		for (const p of v(obj)) {
			st.problems++;
			if (st.problems <= MAX_REPORTS)
				console.error(`schema: ${where}: ${kind} ${describe(obj)}: ${p.where}: ` +
				    `${p.message} [schema ${p.schema} ${p.schemaPath}]`);
		}
	}
	if (!quiet)
		process.stdout.write("");
}

async function main() {
	const args = process.argv.slice(2);
	const quiet = args[0] === "--quiet";
	const files = quiet ? args.slice(1) : args;
	if (files.length === 0) {
		console.error("usage: node tests/schema/check.mjs [--quiet] OBJECTS_LOG...");
		return 2;
	}
	const st = { objects: 0, problems: 0, unreadable: 0, kinds: new Map(), seen: new Set() };
	for (const f of files) {
		if (!fs.existsSync(f)) {
			console.error(`schema: ${f}: no such objects log`);
			return 2;
		}
		await checkFile(f, st, quiet);
	}
	if (st.problems > MAX_REPORTS)
		console.error(`schema: ... and ${st.problems - MAX_REPORTS} more problems`);
	const kinds = [...st.kinds.entries()].sort().map(([k, n]) => `${k} ${n}`).join(", ");
	const line = `schema: ${st.objects} objects written (${st.seen.size} distinct, ` +
	    `${st.kinds.size} kinds) checked: ${st.problems} problems` +
	    (st.unreadable ? `, ${st.unreadable} unreadable lines` : "");
	if (!quiet || st.problems || st.unreadable)
		console.log(kinds ? `${line}\n  ${kinds}` : line);
	return st.problems || st.unreadable ? 1 : 0;
}

process.exitCode = await main();
