// Case-insensitive literals (non-unicode /i): V8's RegExp.prototype.test results.
const patterns = [["k", "i"], ["K", "i"], ["s", "i"], ["S", "i"], ["é", "i"], ["É", "i"], ["µ", "i"],
  ["μ", "i"], ["ß", "i"], ["å", "i"], ["i", "i"], ["I", "i"], ["ǆ", "i"], ["ǅ", "i"], ["foo", "i"],
  ["ſ", "i"], ["\u212a", "i"], ["\u212b", "i"], ["a.k", "i"], ["^kelvin$", "i"], ["x|k", "i"]];
const inputs = ["k", "K", "\u212a", "s", "S", "ſ", "é", "É", "µ", "μ", "Μ", "ß", "ẞ", "SS", "å", "Å", "\u212b",
  "i", "I", "ı", "İ", "ǆ", "ǅ", "Ǆ", "FOO", "fOo", "a\nk", "aXk", "KELVIN", "\u212aelvin", "x"];
const cases = [];
for (const [source, flags] of patterns) {
  for (const input of inputs) {
    cases.push({ source, flags, input, matches: new RegExp(source, flags).test(input) });
  }
}
process.stdout.write(JSON.stringify({ generator: `node ${process.version} (V8 ${process.versions.v8})`, cases }, null, 1));
