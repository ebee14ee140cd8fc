// Generates the verdicts of the RudderStack dashboard's schema for Sentry destination configs,
// by running the schema itself with Ajv as rudder-integrations-config's validator runs it:
//   npm install ajv@8                                          (in some directory D)
//   git clone https://github.com/rudderlabs/rudder-integrations-config R
//   NODE_PATH=D/node_modules node dashboard-schema.js R > ../dashboard-schema-cases.json
// Cases: the repository's own Sentry validation cases (test/data/validation/destinations/
// sentry.json), then variants of a valid config, one field changed at a time, in every shape a
// hand-written config takes (plain lists, string items, wrong types, long, multi-line and
// astral strings, templates, unknown keys). Recorded: each config, the schema's verdict, and
// its errors.
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");

const repo = process.argv[2];
const schemaFile = path.join(repo, "src/configurations/destinations/sentry/schema.json");
const casesFile = path.join(repo, "test/data/validation/destinations/sentry.json");
// src/validator/index.ts's options
const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: false,
  strictSchema: false,
  strictRequired: false,
  strictNumbers: true,
  strictTypes: true,
  strictTuples: true,
});
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, "utf8")).configSchema);

function verdict(config) {
  const copy = JSON.parse(JSON.stringify(config)); // useDefaults writes into the data
  const valid = validate(copy);
  const errors = (validate.errors || []).map((e) => `${e.instancePath} ${e.message}`.trim());
  return { valid, errors };
}

const base = {
  dsn: "https://0f6d2b1e9a4c4e7b8d3a5c6e7f8a9b0c@o450001.ingest.sentry.io/4504000000000001",
  environment: "production",
  customVersionProperty: "",
  release: "shop@1.0.0",
  serverName: "",
  logger: "rudderstack",
  ignoreErrors: [{ ignoreErrors: "ResizeObserver loop" }],
  includePaths: [{ includePaths: "shop\\.example\\.com" }],
  allowUrls: [{ allowUrls: "" }],
  denyUrls: [{ denyUrls: "ads.example.net" }],
  debugMode: false,
  eventFilteringOption: "disable",
  whitelistedEvents: [{ eventName: "" }],
  blacklistedEvents: [{ eventName: "" }],
  useNativeSDK: { web: true },
  connectionMode: { web: "device" },
};
const long = (n) => "x".repeat(n);
const astral = (n) => "\u{1F600}".repeat(n);
const strings = {
  "a number": 5,
  null: null,
  "empty": "",
  "100 characters": long(100),
  "101 characters": long(101),
  "300 characters": long(300),
  "301 characters": long(301),
  "100 astral characters": astral(100),
  "51 astral characters": astral(51),
  "a newline": "a\nb",
  "a carriage return": "a\rb",
  "a line separator": "a\u2028b",
  "a template": "{{ message.context.x || \"y\" }}",
  "an env reference": "env.SENTRY_DSN",
  "an ngrok URL": "https://abc.ngrok.io/app.js",
};
const cases = [];
const add = (test, config) => cases.push({ test, config, ...verdict(config) });

for (const item of JSON.parse(fs.readFileSync(casesFile, "utf8"))) {
  add(`rudder-integrations-config: ${item.testTitle || cases.length}`, item.config);
}
add("the base config", base);
for (const key of ["dsn", "environment", "customVersionProperty", "release", "serverName", "logger"]) {
  for (const [name, value] of Object.entries(strings)) add(`${key}: ${name}`, { ...base, [key]: value });
}
const { dsn: _dsn, ...noDsn } = base;
add("dsn missing", noDsn);
const lists = {
  ignoreErrors: "ignoreErrors",
  includePaths: "includePaths",
  allowUrls: "allowUrls",
  denyUrls: "denyUrls",
  whitelistedEvents: "eventName",
  blacklistedEvents: "eventName",
};
for (const [key, itemKey] of Object.entries(lists)) {
  for (const [name, value] of Object.entries(strings)) {
    add(`${key} item: ${name}`, { ...base, [key]: [{ [itemKey]: value }] });
  }
  add(`${key}: a plain list of strings`, { ...base, [key]: ["a", "b"] });
  add(`${key}: web-wrapped`, { ...base, [key]: { web: [{ [itemKey]: "a" }] } });
  add(`${key}: an object`, { ...base, [key]: { [itemKey]: "a" } });
  add(`${key}: a string`, { ...base, [key]: "a" });
  add(`${key}: empty`, { ...base, [key]: [] });
  add(`${key}: null`, { ...base, [key]: null });
  add(`${key}: an item without the key`, { ...base, [key]: [{}] });
  add(`${key}: an item with another key`, { ...base, [key]: [{ other: 1 }] });
  add(`${key}: null items`, { ...base, [key]: [null] });
}
for (const [name, value] of Object.entries({ true: true, "a string": "true", "a number": 1, null: null })) {
  add(`debugMode: ${name}`, { ...base, debugMode: value });
  add(`useNativeSDK: ${name}`, { ...base, useNativeSDK: value });
  add(`useNativeSDK.web: ${name}`, { ...base, useNativeSDK: { web: value } });
}
for (const value of ["disable", "whitelistedEvents", "blacklistedEvents", "whitelist", "", 1]) {
  add(`eventFilteringOption: ${JSON.stringify(value)}`, { ...base, eventFilteringOption: value });
}
for (const value of ["device", { web: "device" }, { web: "cloud" }, { web: 1 }, { ios: "device" }]) {
  add(`connectionMode: ${JSON.stringify(value)}`, { ...base, connectionMode: value });
}
add("an unknown key", { ...base, sampleRate: 1 });
add("a misspelt key", { ...base, blackListedEvents: [] });
const legacy = { oneTrustCookieCategories: "oneTrustCookieCategory", ketchConsentPurposes: "purpose" };
for (const [key, itemKey] of Object.entries(legacy)) {
  add(`${key}: web-wrapped`, { ...base, [key]: { web: [{ [itemKey]: "C0001" }] } });
  add(`${key}: a plain list`, { ...base, [key]: [{ [itemKey]: "C0001" }] });
  add(`${key}: string items`, { ...base, [key]: { web: ["C0001"] } });
  add(`${key}: a number item value`, { ...base, [key]: { web: [{ [itemKey]: 1 }] } });
  add(`${key}: a 101-character value`, { ...base, [key]: { web: [{ [itemKey]: long(101) }] } });
  add(`${key}: web not a list`, { ...base, [key]: { web: { [itemKey]: "C0001" } } });
  add(`${key}: another source type`, { ...base, [key]: { android: [] } });
  add(`${key}: empty`, { ...base, [key]: { web: [] } });
}
const consent = (entries) => ({ ...base, consentManagement: { web: entries } });
const providers = ["oneTrust", "ketch", "iubenda", "custom", "other", "", 1];
for (const provider of providers) {
  for (const strategy of [undefined, "and", "or", "any", ""]) {
    const entry = { provider, consents: [{ consent: "C0001" }] };
    if (strategy !== undefined) entry.resolutionStrategy = strategy;
    add(`consentManagement: ${JSON.stringify(provider)}, strategy ${JSON.stringify(strategy)}`, consent([entry]));
  }
}
add("consentManagement: no provider", consent([{ consents: [{ consent: "C0001" }] }]));
add("consentManagement: string consents", consent([{ provider: "oneTrust", consents: ["C0001"] }]));
add("consentManagement: a number consent", consent([{ provider: "ketch", consents: [{ consent: 1 }] }]));
add("consentManagement: consents an object", consent([{ provider: "ketch", consents: { consent: "a" } }]));
add("consentManagement: a plain list", { ...base, consentManagement: [{ provider: "oneTrust" }] });
add("consentManagement: string items", consent(["oneTrust"]));
add("consentManagement: two providers", consent([
  { provider: "oneTrust", consents: [{ consent: "C0001" }] },
  { provider: "custom", resolutionStrategy: "or", consents: [{ consent: "x" }] },
]));

process.stdout.write(JSON.stringify({
  generator: `node ${process.version}: ajv@${require("ajv/package.json").version} over rudder-integrations-config's Sentry schema.json`,
  cases,
}, null, 1) + "\n");
