export {
  type FakeExecution,
  type FakeWorkflows,
  type FakeWorkflowsOptions,
  type FakeWorkflowsRequest,
  startFakeWorkflows,
} from './fake-workflows-server';
