/**
 * Reads the AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials, or
 * the files named by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE) for what the UI needs:
 * the profile names to pick from and each profile's region. Credentials themselves are left
 * to the SDK's providers; this module never returns secrets.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Profiles found in the shared files, and the region each one sets (if any). */
export interface AwsProfiles {
  /** Profile names, sorted, `default` first when present. */
  readonly names: readonly string[];
  /** Region by profile name, from the config file. */
  readonly regions: ReadonlyMap<string, string>;
}

/** Environment variables this module reads (a subset of `process.env`). */
export type AwsEnv = Readonly<Record<string, string | undefined>>;

/**
 * Parses an INI file into sections of key/value pairs. Comments (`#`, `;`) and blank lines
 * are skipped; keys and values are trimmed; nested (indented) sub-properties are ignored.
 */
export function parseIni(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? {};
      sections.set(name, current);
      continue;
    }
    // Indented lines continue a nested property (e.g. `s3 =\n  max_concurrent_requests = 5`).
    if (!current || /^\s/.test(raw)) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return sections;
}

/**
 * Profiles from the two files' texts. In the config file profiles are `[profile NAME]` (and
 * `[default]`); in the credentials file they are `[NAME]`. `[sso-session x]` and `[services x]`
 * sections are not profiles.
 */
export function profilesFromTexts(configText: string, credentialsText: string): AwsProfiles {
  const names = new Set<string>();
  const regions = new Map<string, string>();
  for (const [section, values] of parseIni(configText)) {
    let name: string | undefined;
    if (section === 'default') name = 'default';
    else if (section.startsWith('profile ')) name = section.slice('profile '.length).trim();
    if (!name) continue;
    names.add(name);
    if (values['region']) regions.set(name, values['region']);
  }
  for (const section of parseIni(credentialsText).keys()) names.add(section.trim());
  const sorted = [...names].sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
  return { names: sorted, regions };
}

/** Paths of the shared config and credentials files, honouring the SDK's env overrides. */
export function sharedFilePaths(env: AwsEnv = process.env): { config: string; credentials: string } {
  const home = env['HOME'] || env['USERPROFILE'] || homedir();
  return {
    config: env['AWS_CONFIG_FILE'] || join(home, '.aws', 'config'),
    credentials: env['AWS_SHARED_CREDENTIALS_FILE'] || join(home, '.aws', 'credentials'),
  };
}

/** Reads both shared files; a missing file counts as empty. */
export async function readAwsProfiles(env: AwsEnv = process.env): Promise<AwsProfiles> {
  const paths = sharedFilePaths(env);
  const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');
  const [config, credentials] = await Promise.all([read(paths.config), read(paths.credentials)]);
  return profilesFromTexts(config, credentials);
}

/** The profile in effect: the setting, else AWS_PROFILE, else `default`. */
export function effectiveProfile(profile: string | undefined, env: AwsEnv = process.env): string {
  return profile || env['AWS_PROFILE'] || 'default';
}

/**
 * The region in effect, resolved the way the SDK would but without network: the setting,
 * then AWS_REGION / AWS_DEFAULT_REGION, then the profile's `region`, then `us-east-1`
 * (which S3 redirects from, and which local S3 servers accept).
 */
export function effectiveRegion(region: string | undefined, profile: string, profiles: AwsProfiles, env: AwsEnv = process.env): string {
  return region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || profiles.regions.get(profile) || 'us-east-1';
}
