// A Dockerfile read into stages and instructions, and what the image must and must not do. Each check
// returns the problems it found, so the tests can show that every one of them fails on a bad file.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  /** The image or stage it starts from, as written (`${NODE_IMAGE}`, `base`). */
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comments, also inside a continued instruction, are dropped as Docker does.
    if (trimmed.startsWith('#')) return;
    if (!pending && trimmed === '') return;
    const continues = /\\\s*$/.test(raw);
    const part = continues ? raw.replace(/\\\s*$/, '') : raw;
    pending = pending ? { text: `${pending.text} ${part.trim()}`, line: pending.line } : { text: part.trim(), line: index + 1 };
    if (!continues) {
      const [keyword = '', ...rest] = pending.text.split(/\s+/);
      instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' ').trim(), line: pending.line });
      pending = undefined;
    }
  });

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ from: words[0] ?? '', name: asIndex > 0 ? words[asIndex + 1] : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=', 2);
        globalArgs[name.trim()] = value.trim();
      }
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The image a stage finally starts from, through other stages and global ARG defaults. */
export function baseImage(file: Dockerfile, stage: Stage): string {
  const seen = new Set<Stage>();
  let current: Stage | undefined = stage;
  let from = stage.from;
  while (current && !seen.has(current)) {
    seen.add(current);
    from = current.from.replace(/\$\{?(\w+)\}?/g, (_, name: string) => file.globalArgs[name] ?? '');
    current = file.stages.find((s) => s.name === from);
  }
  return from;
}

/** Names set by ENV (`ENV A=1 B=2` or the old `ENV A 1`) or ARG in a stage. */
export function declaredNames(instruction: Instruction): string[] {
  if (instruction.keyword === 'ARG') return [instruction.args.split('=')[0]!.trim()];
  if (instruction.keyword !== 'ENV') return [];
  if (!instruction.args.includes('=')) return [instruction.args.split(/\s+/)[0]!];
  return [...instruction.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!);
}

/** ENV values of a stage (the `A=1 B=2` form; quotes removed). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const match of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[match[1]!] = match[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

const SECRET_NAME = /MASTER_KEY|NEXTAUTH_SECRET|DATABASE_URL|PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY/i;

export interface RepoFiles {
  /** Reads a file of the repository (for what COPY brings in), or undefined when there is none. */
  read(relativePath: string): string | undefined;
}

export function dockerfileProblems(text: string, repo: RepoFiles): string[] {
  const problems: string[] = [];
  const file = parseDockerfile(text);
  if (file.stages.length < 2) problems.push(`not multi-stage: ${file.stages.length} FROM`);
  const final = file.stages.at(-1);
  if (!final) return [...problems, 'no FROM'];

  const image = baseImage(file, final);
  if (image !== 'node:20-bookworm-slim') problems.push(`the final stage starts from ${image || 'nothing'}, not node:20-bookworm-slim`);

  const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
  const uid = user?.split(':')[0];
  if (!uid) problems.push('the final stage sets no USER (the server would run as root)');
  else if (!/^\d+$/.test(uid)) problems.push(`the final stage's USER ${user} is not numeric (Kubernetes cannot verify runAsNonRoot)`);
  else if (Number(uid) === 0) problems.push(`the final stage's USER ${user} is root`);

  for (const stage of file.stages) {
    for (const instruction of stage.instructions) {
      for (const name of declaredNames(instruction)) {
        if (SECRET_NAME.test(name)) problems.push(`line ${instruction.line}: ${instruction.keyword} ${name} would put a secret into the image`);
      }
      if (instruction.keyword === 'RUN' && /\b(MASTER_KEY|NEXTAUTH_SECRET|DATABASE_URL)=/.test(instruction.args)) {
        problems.push(`line ${instruction.line}: RUN sets a secret variable`);
      }
      if ((instruction.keyword === 'COPY' || instruction.keyword === 'ADD') && /(^|\s|\/)\.env\b/.test(instruction.args)) {
        problems.push(`line ${instruction.line}: ${instruction.keyword} brings in an .env file`);
      }
    }
  }

  const healthcheck = final.instructions.find((i) => i.keyword === 'HEALTHCHECK');
  if (!healthcheck || /^NONE$/i.test(healthcheck.args)) {
    problems.push('the final stage has no HEALTHCHECK');
  } else if (!healthcheck.args.includes('/api/health')) {
    // The check may run a script the image copies from the repository: that script must ask /api/health.
    const script = healthcheck.args.match(/(\/[\w./-]+\.(?:mjs|cjs|js))/)?.[1];
    const copy = script && final.instructions.find((i) => i.keyword === 'COPY' && !i.args.includes('--from') && i.args.trim().endsWith(script));
    const source = copy ? copy.args.trim().split(/\s+/).at(-2) : undefined;
    const body = source ? repo.read(source) : undefined;
    if (!body?.includes('/api/health')) problems.push('the HEALTHCHECK does not ask /api/health (inline or in a script the image copies)');
  }

  const env = envOf(final);
  const expected: Record<string, (v: string | undefined) => boolean> = {
    NODE_ENV: (v) => v === 'production',
    HOSTNAME: (v) => v === '0.0.0.0',
    DATA_DIR: (v) => v === '/data',
    NODE_OPTIONS: (v) => /--max-old-space-size=\d+/.test(v ?? ''),
  };
  for (const [name, ok] of Object.entries(expected)) {
    if (!ok(env[name])) problems.push(`the final stage's ENV ${name} is ${env[name] ?? 'unset'}`);
  }
  const expose = final.instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args);
  if (!expose.some((ports) => ports.split(/\s+/).includes('3000'))) problems.push('the final stage does not EXPOSE 3000');
  const volume = final.instructions.find((i) => i.keyword === 'VOLUME')?.args ?? '';
  if (!volume.includes('/data')) problems.push('the final stage declares no /data VOLUME');
  const cmd = final.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '';
  if (!/server\.js/.test(cmd)) problems.push(`the final stage's CMD (${cmd || 'none'}) does not run the standalone server.js`);
  if (!final.instructions.some((i) => i.keyword === 'COPY' && /--from=\w+/.test(i.args) && i.args.includes('.next/standalone'))) {
    problems.push('the final stage does not copy .next/standalone from a build stage');
  }

  if (!final.instructions.some((i) => i.keyword === 'RUN' && /smoke-test\.mjs\s+\/app\b/.test(i.args))) {
    problems.push('the final stage does not smoke-test the server folder it ships (smoke-test.mjs /app)');
  }

  const buildStage = file.stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\b(npm run build|next build)\b/.test(i.args)));
  if (!buildStage) {
    problems.push('no stage runs the build');
  } else {
    if (envOf(buildStage).NEXT_OUTPUT !== 'standalone') problems.push('the build stage does not set NEXT_OUTPUT=standalone');
    const runs = buildStage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    if (!/\.next\/static\s+\.next\/standalone\/\.next\/static/.test(runs)) problems.push('the build stage does not copy .next/static into the standalone folder');
    if (!/\bpublic\s+\.next\/standalone\/public/.test(runs)) problems.push('the build stage does not copy public into the standalone folder');
  }
  return problems;
}
