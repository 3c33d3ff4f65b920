export {
  type FakeKaggle,
  type FakeKaggleDataset,
  type FakeKaggleFaults,
  type FakeKaggleFiles,
  type FakeKaggleOptions,
  type FakeKaggleRequest,
  startFakeKaggle,
} from './fake-kaggle-server';
