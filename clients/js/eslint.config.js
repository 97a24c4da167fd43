// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "examples/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.ts"],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ["test/**/*.js", "eslint.config.js"],
    // tsc --checkJs (tsconfig.test.json) resolves every name with Node's types: no-undef
    // would only repeat it without knowing the globals.
    rules: { "no-undef": "off" },
  },
);
