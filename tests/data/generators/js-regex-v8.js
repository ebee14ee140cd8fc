// Generates regex cases (pattern, flags, input) -> V8's RegExp.prototype.test result.
const patterns = [
  ["\\bfoo", ""], ["foo\\b", ""], ["\\Bfoo", ""], ["foo\\B", ""], ["\\b\\w+\\b", ""],
  ["^\\b", ""], ["\\b$", ""], ["\\bfoo", "i"], ["x\\B\\w", ""], ["[\\b]", ""],
  ["a\\cJb", ""], ["a\\cjb", ""], ["\\cM", ""], ["[\\cJ]", ""], ["a\\c1", ""], ["\\c", ""],
  ["a\\c_", ""], ["\\bFOO\\b", "i"],
];
const inputs = [
  "foo", "éfoo", "fooé", "a foo b", "ñfooñ", "xfoo", "foox", "_foo", "9foo", "Жfoo", "fooЖ",
  "a\nb", "a\rb", "ajb", "a\\c1", "a\\cJb", "\\c", "a\\c_", "é", "\b", "x\u00e9", "xy", "",
  "FOO", "éFOO", "ǅfoo", "foo\u200d",
];
const cases = [];
for (const [source, flags] of patterns) {
  for (const input of inputs) {
    cases.push({ source, flags, input, matches: new RegExp(source, flags).test(input) });
  }
}
process.stdout.write(JSON.stringify({ generator: `node ${process.version} (V8 ${process.versions.v8})`, cases }, null, 1));
