// tests/data/frictionless/validate.js -- run by tests/scripts/datapackage.sh
// and shards-dp.sh with NODE_PATH at an npm folder holding ajv, ajv-draft-04
// and ajv-formats (the scripts install them with npm).
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");
const fs = require("fs");
// node validate.js PROFILE DESCRIPTOR [TABULAR-RESOURCE-PROFILE]: the
// descriptor against PROFILE, and each resource that says it is a tabular
// data resource against the third profile.
const [profile, descriptor, tabular] = process.argv.slice(2);
const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
addFormats(ajv);
ajv.addFormat("textarea", true);
const load = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const d = load(descriptor);
let failed = false;
const check = (schema, value, where) => {
  const validate = ajv.compile(schema);
  if (!validate(value)) {
    for (const e of validate.errors) console.log(`${where}${e.instancePath || "/"} ${e.message}`);
    failed = true;
  }
};
check(load(profile), d, "");
if (tabular) {
  const t = load(tabular);
  d.resources.forEach((r, i) => {
    if (r.profile === "tabular-data-resource") check(t, r, `/resources/${i}`);
  });
}
process.exit(failed ? 1 : 0);
