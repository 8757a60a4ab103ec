/**
 * The AWS SDK values the adapters use, gathered in one module so they load together and only
 * when first needed. Nothing may import this module statically: load it with `loadAwsSdk()`
 * (src/aws/clientFactory.ts). esbuild builds it as its own file (dist/aws-sdk.js) for the
 * extension, so activating the extension never parses or evaluates the SDK.
 */
export {
  S3Client,
  ListObjectsV2Command,
  GetObjectCommand,
  HeadObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
export { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
export { getSignedUrl } from '@aws-sdk/s3-request-presigner';
