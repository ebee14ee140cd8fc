// Generates consent cases (event consentManagement, destination config) -> whether the SDK loads
// the destination, by running the consent code of the published SDK packages:
//   npm pack @rudderstack/analytics-js@3.34.1 rudder-sdk-js@2.52.21   (then untar both)
//   RS_V3=<analytics-js package dir> RS_V11=<rudder-sdk-js package dir> node consent.js > ../consent-cases.json
// v3: the four consent-manager plugins' isDestinationConsented (bundled build), with the plugin
// state the page would have had, read from the event. v1.1: the OneTrust and Ketch classes'
// isEnabled, with the granted ids a dump implies (every id that is not denied).
const fs = require("fs");
const path = require("path");
const vm = require("vm");

function loadV3(dir) {
  const file = path.join(dir, "dist/npm/modern/bundled/cjs/index.cjs");
  const source = fs.readFileSync(file, "utf8") +
    "\n;module.exports.__consent={oneTrust:OneTrustConsentManager,ketch:KetchConsentManager," +
    "iubenda:IubendaConsentManager,custom:CustomConsentManager};";
  const module = { exports: {} };
  vm.runInThisContext(`(function(exports,require,module){${source}\n})`, { filename: file })(
    module.exports, require, module);
  return module.exports.__consent;
}

function loadV11(dir) {
  const file = path.join(dir, "dist/npm/index.js");
  const anchor = ",Os=function(){return r(function e(){n(this,e),this.storage=";
  let source = fs.readFileSync(file, "utf8");
  if (source.split(anchor).length !== 2) throw new Error("v1.1 bundle changed: anchor not found");
  source = source.replace(anchor, ",__rsExport=(globalThis.__cookieConsent=ws)" + anchor);
  globalThis.window = globalThis;
  globalThis.location = { href: "http://x/", hostname: "x", protocol: "http:", search: "", pathname: "/", hash: "" };
  globalThis.navigator = { userAgent: "node" };
  globalThis.addEventListener = () => {};
  globalThis.document = {
    cookie: "", addEventListener() {}, createElement() { return {}; },
    getElementsByTagName() { return []; }, querySelector() { return null; }, location: globalThis.location,
  };
  try {
    vm.runInThisContext(`(function(exports,module){${source}\n})`)({}, { exports: {} });
  } catch (error) {
    // the SDK's own start-up needs a browser; the factory is defined before that point
  }
  if (typeof globalThis.__cookieConsent !== "function") throw new Error("v1.1 factory not found");
  return globalThis.__cookieConsent;
}

const unweb = (value) =>
  value && typeof value === "object" && !Array.isArray(value) && "web" in value ? value.web : value;
const isEmpty = (value) =>
  value === undefined || value === null ||
  (typeof value === "object" && Object.keys(value).length === 0);

function v3Decision(plugins, cm, config) {
  if (!cm || typeof cm !== "object" || Array.isArray(cm)) return true;
  const plugin = plugins[cm.provider];
  if (typeof cm.provider !== "string" || !Object.hasOwn(plugins, cm.provider)) return true;
  let allowed = cm.allowedConsentIds;
  const initialized = !(isEmpty(allowed) && isEmpty(cm.deniedConsentIds));
  if (allowed && typeof allowed === "object" && !Array.isArray(allowed)) {
    allowed = [...Object.keys(allowed), ...Object.values(allowed)];
  }
  const state = {
    consents: {
      initialized: { value: initialized },
      data: { value: { allowedConsentIds: allowed, deniedConsentIds: cm.deniedConsentIds } },
      provider: { value: cm.provider },
      resolutionStrategy: { value: cm.resolutionStrategy },
    },
  };
  const destConfig = {
    consentManagement: unweb(config.consentManagement),
    oneTrustCookieCategories: unweb(config.oneTrustCookieCategories),
    ketchConsentPurposes: unweb(config.ketchConsentPurposes),
  };
  return plugin().consentManager.isDestinationConsented(state, destConfig, undefined, undefined);
}

function v11Decision(factory, cm, config) {
  if (!cm || typeof cm !== "object" || Array.isArray(cm)) return true;
  const denied = Array.isArray(cm.deniedConsentIds)
    ? cm.deniedConsentIds.filter((d) => typeof d === "string") : [];
  const destConfig = { oneTrustCookieCategories: config.oneTrustCookieCategories, ketchConsentPurposes: config.ketchConsentPurposes };
  if (config.oneTrustCookieCategories) {
    if (denied.length === 0) return true;
    globalThis.OneTrust = { GetDomainData: () => ({ Groups: [] }) };
    globalThis.OnetrustActiveGroups = ",";
    const manager = factory({ oneTrust: { enabled: true } });
    const refused = denied.map((d) => d.toUpperCase());
    const categories = Array.isArray(config.oneTrustCookieCategories) ? config.oneTrustCookieCategories : [];
    manager.isInitialized = true;
    manager.userSetConsentGroupNames = [];
    manager.userSetConsentGroupIds = categories
      .map((c) => c && c.oneTrustCookieCategory)
      .filter((c) => typeof c === "string")
      .map((c) => c.toUpperCase().trim())
      .filter((c) => c && !refused.includes(c));
    return manager.isEnabled(destConfig);
  }
  if (config.ketchConsentPurposes) {
    globalThis.ketchConsent = undefined;
    const manager = factory({ ketch: { enabled: true } });
    const purposes = Array.isArray(config.ketchConsentPurposes) ? config.ketchConsentPurposes : [];
    manager.userConsentedPurposes = purposes
      .map((p) => p && p.purpose)
      .filter((p) => typeof p === "string")
      .map((p) => p.trim())
      .filter((p) => p && !denied.includes(p));
    manager.userDeniedPurposes = denied;
    return manager.isEnabled(destConfig);
  }
  return true;
}

// --- the cases: every event consent below against every config below, per generation ---
const ot = (allowed, denied, rs) => ({ provider: "oneTrust", allowedConsentIds: allowed, deniedConsentIds: denied, ...(rs && { resolutionStrategy: rs }) });
const ketch = (allowed, denied, rs) => ({ provider: "ketch", allowedConsentIds: allowed, deniedConsentIds: denied, ...(rs && { resolutionStrategy: rs }) });
const v3Events = [
  ["oneTrust and", ot(["C0001", "C0003"], ["C0002", "C0004", "C0005", "C0006"], "and")],
  ["oneTrust or", ot(["C0001", "C0003"], ["C0002", "C0004", "C0005", "C0006"], "or")],
  ["oneTrust, no strategy", ot(["C0001", "C0003"], ["C0002", "C0004"])],
  ["oneTrust, odd strategy", ot(["C0001", "C0003"], ["C0002", "C0004"], "OR")],
  ["oneTrust old object ids", ot({ C0001: "Strictly Necessary", C0003: "Functional" }, ["C0004"], "and")],
  ["oneTrust not initialised", ot([], [], "and")],
  ["oneTrust denied only", ot([], ["C0001", "C0003", "C0004"], "and")],
  ["oneTrust ids as a string", ot("C0001,C0003", ["C0004"], "and")],
  ["oneTrust allowed missing", { provider: "oneTrust", deniedConsentIds: ["C0004"], resolutionStrategy: "and" }],
  ["ketch or", ketch(["p1", "p3"], ["p2", "p4"], "or")],
  ["ketch and", ketch(["p1", "p3"], ["p2", "p4"], "and")],
  ["custom", { provider: "custom", allowedConsentIds: ["analytics"], deniedConsentIds: ["marketing"] }],
  ["custom or", { provider: "custom", allowedConsentIds: ["analytics"], deniedConsentIds: ["marketing"], resolutionStrategy: "or" }],
  ["iubenda and", { provider: "iubenda", allowedConsentIds: ["1", "4"], deniedConsentIds: ["2", "3", "5"], resolutionStrategy: "and" }],
  ["iubenda numeric ids", { provider: "iubenda", allowedConsentIds: [1, 4], deniedConsentIds: [2, 3, 5], resolutionStrategy: "and" }],
  ["unknown provider", { provider: "didomi", allowedConsentIds: ["a"], deniedConsentIds: ["b"] }],
  ["no provider", { allowedConsentIds: ["C0001"], deniedConsentIds: ["C0004"] }],
  ["consentManagement null", null],
  ["consentManagement a list", ["C0001"]],
  ["absent", undefined],
];
const gcm = (provider, consents, rs) => ({ provider, consents: consents.map((c) => ({ consent: c })), ...(rs && { resolutionStrategy: rs }) });
const v3Configs = [
  ["GCM oneTrust [C0001,C0003]", { consentManagement: [gcm("oneTrust", ["C0001", "C0003"])] }],
  ["GCM oneTrust [C0001,C0004]", { consentManagement: [gcm("oneTrust", ["C0001", "C0004"])] }],
  ["GCM oneTrust [] ", { consentManagement: [gcm("oneTrust", [])] }],
  ["GCM oneTrust [C0009]", { consentManagement: [gcm("oneTrust", ["C0009"])] }],
  ["GCM oneTrust [c0001] (case)", { consentManagement: [gcm("oneTrust", ["c0001"])] }],
  ["GCM oneTrust [' C0001 ']", { consentManagement: [gcm("oneTrust", [" C0001 "])] }],
  ["GCM oneTrust ['', C0003]", { consentManagement: [gcm("oneTrust", ["", "C0003"])] }],
  ["GCM oneTrust [Functional] (a name)", { consentManagement: [gcm("oneTrust", ["Functional"])] }],
  ["GCM ketch only", { consentManagement: [gcm("ketch", ["p1", "p2"])] }],
  ["GCM ketch [p1,p2] + oneTrust [C0004]", { consentManagement: [gcm("ketch", ["p1", "p2"]), gcm("oneTrust", ["C0004"])] }],
  ["GCM custom [analytics,marketing] or", { consentManagement: [gcm("custom", ["analytics", "marketing"], "or")] }],
  ["GCM custom [analytics,marketing]", { consentManagement: [gcm("custom", ["analytics", "marketing"])] }],
  ["GCM custom [analytics,marketing] rs ''", { consentManagement: [{ ...gcm("custom", ["analytics", "marketing"]), resolutionStrategy: "" }] }],
  ["GCM custom [analytics,marketing] rs null", { consentManagement: [{ ...gcm("custom", ["analytics", "marketing"]), resolutionStrategy: null }] }],
  ["GCM iubenda [2,4] or", { consentManagement: [gcm("iubenda", ["2", "4"], "or")] }],
  ["GCM iubenda [1,4] and", { consentManagement: [gcm("iubenda", ["1", "4"], "and")] }],
  ["GCM as {web: [...]}", { consentManagement: { web: [gcm("oneTrust", ["C0004"])] } }],
  ["GCM as {android: [...]}", { consentManagement: { android: [gcm("oneTrust", ["C0004"])] } }],
  ["GCM []", { consentManagement: [] }],
  ["GCM [] + legacy oneTrust [C0004]", { consentManagement: [], oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0004" }] }],
  ["GCM entry without consent", { consentManagement: [{ provider: "oneTrust", consents: [{}] }] }],
  ["GCM entry with a number consent", { consentManagement: [{ provider: "oneTrust", consents: [{ consent: 4 }] }] }],
  ["GCM consents a string", { consentManagement: [{ provider: "oneTrust", consents: "C0004" }] }],
  ["GCM consents null", { consentManagement: [{ provider: "oneTrust", consents: null }] }],
  ["GCM null entry first", { consentManagement: [null, gcm("oneTrust", ["C0004"])] }],
  ["GCM null entry after the match", { consentManagement: [gcm("oneTrust", ["C0004"]), null] }],
  ["GCM a string", { consentManagement: "oneTrust" }],
  ["legacy oneTrust [C0001,C0003]", { oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0001" }, { oneTrustCookieCategory: "C0003" }] }],
  ["legacy oneTrust [C0004]", { oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0004" }] }],
  ["legacy oneTrust [' C0003 ', '']", { oneTrustCookieCategories: [{ oneTrustCookieCategory: " C0003 " }, { oneTrustCookieCategory: "" }] }],
  ["legacy oneTrust item without category", { oneTrustCookieCategories: [{}] }],
  ["legacy ketch [p1,p2]", { ketchConsentPurposes: [{ purpose: "p1" }, { purpose: "p2" }] }],
  ["legacy ketch [p2,p4]", { ketchConsentPurposes: [{ purpose: "p2" }, { purpose: "p4" }] }],
  ["legacy ketch []", { ketchConsentPurposes: [] }],
  ["legacy both", { oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0004" }], ketchConsentPurposes: [{ purpose: "p2" }] }],
  ["nothing", {}],
];

const v11Events = [
  ["denied [C0002,C0004]", { deniedConsentIds: ["C0002", "C0004"] }],
  ["denied [c0004] (case)", { deniedConsentIds: ["c0004"] }],
  ["denied []", { deniedConsentIds: [] }],
  ["denied [p2,p4]", { deniedConsentIds: ["p2", "p4"] }],
  ["denied [p1,p2,p3]", { deniedConsentIds: ["p1", "p2", "p3"] }],
  ["denied missing", {}],
  ["consentManagement null", null],
  ["absent", undefined],
];
const v11Configs = [
  ["legacy oneTrust [C0001,C0003]", { oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0001" }, { oneTrustCookieCategory: "C0003" }] }],
  ["legacy oneTrust [C0004]", { oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0004" }] }],
  ["legacy oneTrust [' c0004 ']", { oneTrustCookieCategories: [{ oneTrustCookieCategory: " c0004 " }] }],
  ["legacy oneTrust [' ']", { oneTrustCookieCategories: [{ oneTrustCookieCategory: " " }] }],
  ["legacy oneTrust []", { oneTrustCookieCategories: [] }],
  ["legacy oneTrust [null]", { oneTrustCookieCategories: [null] }],
  ["legacy oneTrust [5]", { oneTrustCookieCategories: [{ oneTrustCookieCategory: 5 }] }],
  ["legacy ketch [p1,p2]", { ketchConsentPurposes: [{ purpose: "p1" }, { purpose: "p2" }] }],
  ["legacy ketch [p2,p4]", { ketchConsentPurposes: [{ purpose: "p2" }, { purpose: "p4" }] }],
  ["legacy ketch [' p3 ']", { ketchConsentPurposes: [{ purpose: " p3 " }] }],
  ["legacy ketch [{}]", { ketchConsentPurposes: [{}] }],
  ["legacy ketch []", { ketchConsentPurposes: [] }],
  ["legacy both", { oneTrustCookieCategories: [{ oneTrustCookieCategory: "C0001" }], ketchConsentPurposes: [{ purpose: "p2" }] }],
  ["generic only (v1.1 ignores it)", { consentManagement: [gcm("oneTrust", ["C0004"])] }],
  ["nothing", {}],
];

const plugins = loadV3(process.env.RS_V3);
const factory = loadV11(process.env.RS_V11);
const cases = [];
for (const [eventName, cm] of v3Events) {
  for (const [configName, config] of v3Configs) {
    cases.push({ semantics: "v3", name: `${eventName} / ${configName}`, consentManagement: cm ?? null,
      present: cm !== undefined, config, consented: v3Decision(plugins, cm, config) });
  }
}
for (const [eventName, cm] of v11Events) {
  for (const [configName, config] of v11Configs) {
    cases.push({ semantics: "v1.1", name: `${eventName} / ${configName}`, consentManagement: cm ?? null,
      present: cm !== undefined, config, consented: v11Decision(factory, cm, config) });
  }
}
const packages = "@rudderstack/analytics-js@3.34.1 (bundled cjs), rudder-sdk-js@2.52.21 (npm umd)";
process.stdout.write(JSON.stringify({ generator: `node ${process.version}: ${packages}`, cases }, null, 1) + "\n");
