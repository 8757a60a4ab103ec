/**
 * The AWS status bar item: `$(cloud) profile · region`, shown once S3 is in use (the client
 * factory made its first client); a click opens a quick pick to change the profile or the
 * region. Profile names come from the shared config and credentials files.
 */
import * as vscode from 'vscode';
import type { AwsClientFactory, AwsConnection } from '../aws/clientFactory';
import { Disposable } from './dispose';
import { writeAwsSetting } from './settings';

/** The command the item runs. */
export const CONFIGURE_AWS_COMMAND = 'ocrActiveLearning.configureAws';

/** Regions offered in the picker (any other can be typed). */
export const COMMON_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
];

/** The status bar item. */
export class AwsStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(
    private readonly factory: AwsClientFactory,
    private readonly connection: () => AwsConnection,
  ) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('ocrActiveLearning.aws', vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'OCR Active Learning: AWS';
    this.item.command = CONFIGURE_AWS_COMMAND;
    this._register(factory.onDidCreateClient(() => void this.update()));
    void this.update();
  }

  /** Re-reads the profile and region in effect; shows the item once S3 is in use. */
  async update(): Promise<void> {
    if (!this.factory.inUse) {
      this.item.hide();
      return;
    }
    const resolved = await this.factory.resolve(this.connection());
    if (this.isDisposed) return;
    this.item.text = `$(cloud) ${resolved.profile} · ${resolved.region}`;
    this.item.tooltip = `AWS profile "${resolved.profile}" and region ${resolved.region} used for S3 batches${resolved.endpoint ? ` (endpoint ${resolved.endpoint})` : ''}. Click to change.`;
    this.item.accessibilityInformation = { label: `AWS profile ${resolved.profile}, region ${resolved.region}. Click to change.` };
    this.item.show();
  }
}

/** Asks which of profile / region to change, then asks for the value. Returns false when cancelled. */
export async function configureAws(factory: AwsClientFactory, connection: AwsConnection): Promise<boolean> {
  const resolved = await factory.resolve(connection);
  const choice = await vscode.window.showQuickPick(
    [
      { label: '$(account) Change AWS Profile…', description: resolved.profile, id: 'profile' as const },
      { label: '$(globe) Change AWS Region…', description: resolved.region, id: 'region' as const },
    ],
    { title: 'OCR Active Learning: AWS', placeHolder: 'Profile and region used for S3 batches' },
  );
  if (!choice) return false;
  return choice.id === 'profile' ? pickProfile(factory, connection) : pickRegion(factory, connection);
}

const ENTER = '$(edit) Enter…';

/** Lets the user pick a profile from ~/.aws/config and credentials, the default chain, or type one. */
export async function pickProfile(factory: AwsClientFactory, connection: AwsConnection): Promise<boolean> {
  factory.forgetProfiles();
  const profiles = await factory.readProfiles();
  const current = connection.profile;
  const items: (vscode.QuickPickItem & { value: string | undefined })[] = [
    { label: 'Default credential chain', description: 'environment, AWS_PROFILE, SSO, instance role', picked: !current, value: '' },
    ...profiles.names.map((name) => ({
      label: name,
      description: [profiles.regions.get(name), name === current ? 'current' : undefined].filter(Boolean).join(' · ') || undefined,
      value: name,
    })),
    { label: ENTER, description: 'type a profile name', value: undefined },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'AWS Profile for S3 Batches', placeHolder: current ? `Current: ${current}` : 'Current: default credential chain' });
  if (!picked) return false;
  let value = picked.value;
  if (value === undefined) {
    value = await vscode.window.showInputBox({
      title: 'AWS Profile for S3 Batches',
      prompt: 'Profile name from ~/.aws/config or ~/.aws/credentials',
      value: current ?? '',
      validateInput: (text) => (/\s/.test(text.trim()) ? 'Profile names have no spaces' : undefined),
    });
    if (value === undefined) return false;
  }
  await writeAwsSetting('profile', value.trim());
  return true;
}

/** Lets the user pick a region from a common list, the profile's own, or type one. */
export async function pickRegion(factory: AwsClientFactory, connection: AwsConnection): Promise<boolean> {
  const resolved = await factory.resolve({ ...connection, region: undefined });
  const items: (vscode.QuickPickItem & { value: string | undefined })[] = [
    { label: 'From the profile or environment', description: resolved.region, value: '' },
    ...COMMON_REGIONS.map((region) => ({ label: region, description: region === connection.region ? 'current' : undefined, value: region })),
    { label: ENTER, description: 'type a region', value: undefined },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'AWS Region for S3 Batches', placeHolder: `Current: ${connection.region ?? `${resolved.region} (from profile or environment)`}` });
  if (!picked) return false;
  let value = picked.value;
  if (value === undefined) {
    value = await vscode.window.showInputBox({
      title: 'AWS Region for S3 Batches',
      prompt: 'Region code, for example eu-west-1',
      value: connection.region ?? '',
      validateInput: (text) => (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(text.trim()) || !text.trim() ? undefined : 'A region looks like eu-west-1'),
    });
    if (value === undefined) return false;
  }
  await writeAwsSetting('region', value.trim());
  return true;
}
