/**
 * A Stryker ignorer for the text of log and warning messages: a mutant that only changes what a message says is not
 * a behaviour the decoder's rows or the API depend on. The kinds, names and values that rows carry are still mutated.
 * Ignored: string and template literals given as a `message` or `reason` property, as an Error's argument, or as the
 * message argument of the decoder's `warn(programId, ix, discriminator, message)`, including the fallback side of a
 * `??` or `||` there.
 */
import { PluginKind, declareValuePlugin } from "@stryker-mutator/api/plugin";

const MESSAGE_KEYS = new Set(["message", "reason"]);

/** The expression a literal stands for once `??`, `||` and conditional branches are looked through. */
function outer(path) {
  let p = path;
  while (p.parentPath && (p.parentPath.isLogicalExpression() || p.parentPath.isConditionalExpression()))
    p = p.parentPath;
  return p;
}

function isMessage(path) {
  const p = outer(path);
  const parent = p.parentPath;
  if (!parent) return false;
  if (parent.isObjectProperty() && parent.node.value === p.node) {
    const key = parent.node.key;
    return (
      (key.type === "Identifier" && MESSAGE_KEYS.has(key.name)) ||
      (key.type === "StringLiteral" && MESSAGE_KEYS.has(key.value))
    );
  }
  if (parent.isNewExpression()) {
    const callee = parent.node.callee;
    return callee.type === "Identifier" && callee.name.endsWith("Error");
  }
  if (parent.isCallExpression()) {
    const callee = parent.node.callee;
    return callee.type === "Identifier" && callee.name === "warn" && parent.node.arguments[3] === p.node;
  }
  return false;
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "log-messages", {
    shouldIgnore(path) {
      if ((path.isStringLiteral() || path.isTemplateLiteral()) && isMessage(path))
        return "the text of a log or warning message";
      return undefined;
    },
  }),
];
