/**
 * Typed access to the `ocrActiveLearning.*` settings (declared in package.json `contributes`).
 * Writes go to the workspace when a folder is open (batch locations belong to the project),
 * otherwise to the user settings.
 */
import * as vscode from 'vscode';
import type { AwsConnection } from '../aws/clientFactory';

/** The settings section. */
export const SECTION = 'ocrActiveLearning';

/** The settings this extension reads. */
export interface Settings {
  /** Glob, relative to each workspace folder, that finds manifests. */
  readonly batchGlob: string;
  readonly labelAttribute: string;
  /** `s3://bucket/prefix/` locations searched for batches. */
  readonly s3Locations: readonly string[];
  readonly aws: AwsConnection;
}

/** Reads the current settings, with defaults for empty values. */
export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const text = (key: string, fallback = ''): string => {
    const value = config.get<unknown>(key);
    return typeof value === 'string' && value.trim() ? value.trim() : fallback;
  };
  const locations = config.get<unknown>('s3Locations');
  return {
    batchGlob: text('batchGlob', '**/manifest.jsonl'),
    labelAttribute: text('labelAttribute', 'labels'),
    s3Locations: Array.isArray(locations) ? locations.filter((l): l is string => typeof l === 'string' && l.trim() !== '').map((l) => l.trim()) : [],
    aws: { profile: text('aws.profile') || undefined, region: text('aws.region') || undefined, endpoint: text('aws.endpoint') || undefined },
  };
}

function target(): vscode.ConfigurationTarget {
  return vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

/** Saves the S3 locations. */
export async function writeS3Locations(locations: readonly string[]): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update('s3Locations', [...locations], target());
}

/** Saves `aws.profile` or `aws.region` (empty string: back to the default chain / resolution). */
export async function writeAwsSetting(key: 'profile' | 'region', value: string): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(`aws.${key}`, value || undefined, target());
}

/** True when the change touches any of `keys` (relative to the section). */
export function affects(event: vscode.ConfigurationChangeEvent, ...keys: string[]): boolean {
  return keys.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
