export {
  type FakeTableau,
  type FakeTableauContent,
  type FakeTableauFaults,
  type FakeTableauJob,
  type FakeTableauOptions,
  type FakeTableauRequest,
  startFakeTableau,
} from './fake-tableau-server';
