/**
 * A Dockerfile reader for the lint tests: enough of the Dockerfile grammar (comments, parser
 * directives, line continuations, flags, exec and shell forms) to check the rules hadolint would,
 * without a Docker engine. Heredocs are rejected rather than half-parsed.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY… */
  keyword: string;
  /** Everything after the keyword with continuations joined, flags included. */
  raw: string;
  /** Leading `--name=value` flags (COPY --from, HEALTHCHECK --interval…). */
  flags: Record<string, string>;
  /** The text after the flags. */
  args: string;
  /** Exec form (`["a", "b"]`) parsed, or undefined for shell form. */
  exec: string[] | undefined;
  /** 1-based line of the keyword. */
  line: number;
  /** Index of the build stage (0 for the first FROM); -1 before any FROM. */
  stage: number;
}

export interface Stage {
  index: number;
  /** Base image or earlier stage name. */
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  directives: Record<string, string>;
  instructions: Instruction[];
  stages: Stage[];
}

export class DockerfileSyntaxError extends Error {}

function splitFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text.trimStart();
  for (;;) {
    const m = /^--([a-z][a-z-]*)(?:=("[^"]*"|\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    flags[m[1]] = (m[2] ?? 'true').replace(/^"(.*)"$/, '$1');
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

function execForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // Docker falls back to shell form when the JSON does not parse; so do we.
  }
  return undefined;
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  const instructions: Instruction[] = [];
  let i = 0;
  // Parser directives: only at the very top, before any comment that is not a directive or blank line.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(lines[i]);
    if (!m) break;
    directives[m[1].toLowerCase()] = m[2];
  }
  if (directives.escape && directives.escape !== '\\')
    throw new DockerfileSyntaxError('only the default escape character is supported');

  let stage = -1;
  while (i < lines.length) {
    const first = lines[i];
    const start = i + 1;
    i++;
    if (/^\s*(#|$)/.test(first)) continue;
    let text = first;
    // A trailing backslash continues the instruction; comment lines inside it are dropped.
    while (/\\\s*$/.test(text)) {
      text = text.replace(/\\\s*$/, '');
      while (i < lines.length && /^\s*#/.test(lines[i])) i++;
      if (i >= lines.length) break;
      text += '\n' + lines[i];
      i++;
    }
    const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(text);
    if (!m) throw new DockerfileSyntaxError(`line ${start}: cannot read "${first.trim()}"`);
    const keyword = m[1].toUpperCase();
    const raw = (m[2] ?? '').trim();
    if (/<<-?["']?[A-Za-z_]/.test(raw) && (keyword === 'RUN' || keyword === 'COPY')) {
      throw new DockerfileSyntaxError(`line ${start}: heredocs are not supported by this reader`);
    }
    const withFlags = ['FROM', 'COPY', 'ADD', 'HEALTHCHECK', 'RUN'].includes(keyword);
    const { flags, rest } = withFlags ? splitFlags(raw) : { flags: {}, rest: raw };
    if (keyword === 'FROM') stage++;
    instructions.push({ keyword, raw, flags, args: rest, exec: execForm(rest), line: start, stage });
  }

  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new DockerfileSyntaxError(`line ${ins.line}: FROM needs an image and optionally AS name`);
      stages.push({ index: ins.stage, from: m[1], name: m[2]?.toLowerCase(), instructions: [] });
    } else if (ins.stage >= 0) {
      stages[ins.stage].instructions.push(ins);
    } else if (ins.keyword !== 'ARG') {
      throw new DockerfileSyntaxError(`line ${ins.line}: ${ins.keyword} before the first FROM`);
    }
  }
  return { directives, instructions, stages };
}

/** Splits a shell command into its `&&`/`;`/`||` separated parts (quotes respected), for per-command checks. */
export function shellCommands(script: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let k = 0; k < script.length; k++) {
    const ch = script[k];
    if (quote) {
      cur += ch;
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
      continue;
    }
    const two = script.slice(k, k + 2);
    if (two === '&&' || two === '||') {
      out.push(cur);
      cur = '';
      k++;
      continue;
    }
    if (ch === ';' || ch === '\n') {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.map((c) => c.trim()).filter(Boolean);
}

/** Splits a simple shell word list (no expansions) respecting quotes. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/**
 * `.dockerignore` matching as the Docker builder does it: patterns are relative to the context root,
 * `*` and `?` stay within one path segment, `**` spans any number of segments, a leading `!` re-includes,
 * the last matching pattern wins, and a pattern that matches a directory excludes everything below it.
 */
export function dockerignoreMatcher(text: string): (relPath: string) => boolean {
  const rules: { negate: boolean; re: RegExp }[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^\/+/, '').replace(/\/+$/, '');
    if (line.startsWith('./')) line = line.slice(2);
    let re = '';
    for (let k = 0; k < line.length; k++) {
      const ch = line[k];
      if (ch === '*' && line[k + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        if (line[k + 2] === '/') {
          re += '(?:.*/)?';
          k += 2;
        } else {
          re += '.*';
          k += 1;
        }
      } else if (ch === '*') re += '[^/]*';
      else if (ch === '?') re += '[^/]';
      else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    rules.push({ negate, re: new RegExp(`^${re}(?:/.*)?$`) });
  }
  return (relPath: string) => {
    const p = relPath.replace(/^\.\//, '').replace(/\/+$/, '');
    let ignored = false;
    for (const r of rules) if (r.re.test(p)) ignored = !r.negate;
    return ignored;
  };
}
