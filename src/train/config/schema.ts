/**
 * JSON schemas of the VS Code settings that carry training-config fields, derived from the declaration:
 * `dapStudio.train.overrides` (every field a user may set, nested objects closed to unknown keys, ranges as
 * minimum/maximum), and the settings that mirror one field (`dapStudio.train.backend`,
 * `dapStudio.train.executor`, `dapStudio.python`). scripts/gen-settings-schema.ts writes them into
 * package.json; a unit test fails when package.json is stale.
 */
import { defaultShown, type Field, type Fields } from './fields';
import { TRAIN_FIELDS } from './declaration';

type Schema = Record<string, unknown>;

function describe(f: Field): string {
  const d = defaultShown(f);
  return `${f.help.replace(/\.?$/, '.')}${d !== undefined ? ` Default: ${d}.` : ''}${f.flag ? ` CLI: \`--${f.flag}\`.` : ''}`;
}

/** The schema of one field (nested objects recursively). */
export function fieldSchema(f: Field): Schema {
  const base: Schema = { markdownDescription: describe(f) };
  const d = (f as { default?: unknown }).default;
  if (d !== undefined && typeof d !== 'function' && f.kind !== 'object') base.default = d;
  switch (f.kind) {
    case 'string':
      return { type: 'string', ...(f.nonEmpty ? { minLength: 1 } : {}), ...base };
    case 'number':
    case 'integer': {
      const l = f.limits ?? {};
      return {
        type: f.kind,
        ...(l.min !== undefined ? (l.minExclusive ? { exclusiveMinimum: l.min } : { minimum: l.min }) : {}),
        ...(l.max !== undefined ? (l.maxExclusive ? { exclusiveMaximum: l.max } : { maximum: l.max }) : {}),
        ...base,
      };
    }
    case 'boolean':
      return { type: 'boolean', ...base };
    case 'enum':
      return { type: 'string', enum: [...f.values], ...(f.valueHelp ? { enumDescriptions: f.values.map((v) => f.valueHelp?.[v] ?? '') } : {}), ...base };
    case 'list':
      return { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, ...base };
    case 'object':
      return objectSchema(f.fields, base);
    default:
      return unreachable(f);
  }
}

function unreachable(f: never): never {
  throw new Error(`unknown field kind: ${JSON.stringify(f)}`);
}

function objectSchema(fields: Fields, base: Schema, skipHostOnly = false): Schema {
  const entries = Object.entries(fields).filter(([, f]) => !(skipHostOnly && f.hostOnly));
  const required = entries.filter(([, f]) => f.required).map(([k]) => k);
  return {
    type: 'object',
    properties: Object.fromEntries(entries.map(([k, f]) => [k, fieldSchema(f)])),
    additionalProperties: false,
    ...(required.length ? { required } : {}),
    ...base,
  };
}

/** The generated entries of package.json's contributes.configuration.properties. */
export function settingsSchemas(): Record<string, Schema> {
  const { backend, executor } = TRAIN_FIELDS;
  return {
    'dapStudio.python': { type: 'string', default: '', scope: 'machine-overridable',
      markdownDescription: 'Python interpreter of the torch training executor (with torch, transformers and accelerate). Empty: `$DAP_PYTHON`, else the Python extension\'s selected interpreter when that extension is installed, else `python3`. Run **DAP: Check Training Environment** to see what it has. Restricted in untrusted workspaces.' },
    'dapStudio.train.executor': { ...fieldSchema(executor), scope: 'resource',
      markdownDescription: `${describe(executor)} One-click **Train DPO on This Data** follows the same rule; asking for \`torch\` when the Python lacks it is an error naming what is missing.` },
    'dapStudio.train.backend': { ...fieldSchema(backend), markdownDescription: 'tfjs backend of the training worker (`auto` tries tensorflow → webgpu → wasm → cpu).' },
    'dapStudio.train.overrides': {
      ...objectSchema(TRAIN_FIELDS, {}, true),
      default: {},
      scope: 'resource',
      markdownDescription: 'Advanced: training-config fields merged into every run started from VS Code, e.g. `{"batchSize": 4, "sftEpochs": 2, "builtin": {"numLayers": 2}}`, `{"loss": {"beta": 0.2}}`, or `{"lora": {"r": 8, "alpha": 16}}` to train LoRA adapters of a model folder. Checked before a run starts (unknown fields and out-of-range values are refused, naming the field); see `dap train --help` for each field.',
    },
  };
}
