export { crc32c } from './crc32c';
export {
  type FakeGcs,
  type FakeGcsFault,
  type FakeGcsObject,
  type FakeGcsOptions,
  type FakeGcsRequest,
  startFakeGcs,
} from './fake-gcs-server';
